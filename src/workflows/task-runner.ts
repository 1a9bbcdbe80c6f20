import { describeError } from '../errors.ts';
import { Detached, STATES_ERRORS, StatesError, toStatesError } from './errors.ts';
import type { ExecutionRun, RunDeps } from './execution.ts';
import type { StoredEvent } from './history.ts';
import type { Cursor, TaskOutcome, TaskRequest } from './journal.ts';
import type { CallbackOutcome } from './port.ts';
import { actionNameOf, CALLBACK_SUFFIX } from './task-state.ts';
import type { Json } from './types.ts';

type Waiter = { deliver: (outcome: CallbackOutcome) => void; heartbeat: (at: number) => void };

/** Callback tasks waiting in this process, by token: SendTaskSuccess/Failure/Heartbeat reach them here. */
export class CallbackWaiters {
  private readonly waiters = new Map<string, Waiter>();

  register(token: string, waiter: Waiter): () => void {
    this.waiters.set(token, waiter);
    return () => {
      if (this.waiters.get(token) === waiter) this.waiters.delete(token);
    };
  }

  /** Hands an outcome to the waiting task; false when no task in this process waits for the token. */
  deliver(token: string, outcome: CallbackOutcome): boolean {
    const w = this.waiters.get(token);
    w?.deliver(outcome);
    return w !== undefined;
  }

  heartbeat(token: string, at: number): boolean {
    const w = this.waiters.get(token);
    w?.heartbeat(at);
    return w !== undefined;
  }
}

function outcomeOf(event: StoredEvent): TaskOutcome {
  const d = event.details ?? {};
  if (event.type === 'TaskSucceeded')
    return { ok: true, output: (d['output'] ?? null) as Json, at: event.timestamp };
  return { ok: false, error: String(d['error'] ?? ''), cause: String(d['cause'] ?? ''), at: event.timestamp };
}

/**
 * A task's result as its history records it, and as a replay after a restart reads it back: through JSON (a
 * Date becomes its string, an undefined field goes). What JSON cannot hold (a BigInt, a cycle) throws.
 */
function asJson(result: unknown): Json {
  if (result === undefined || result === null) return null;
  const text = JSON.stringify(result);
  return text === undefined ? null : (JSON.parse(text) as Json);
}

type Raw = { ok: true; output: Json } | { ok: false; error: string; cause: string; timedOut?: boolean };

/**
 * Runs one task attempt, or returns its recorded outcome. The action is called with the attempt's
 * idempotency key; a callback task then waits for its token. The first of outcome, TimeoutSeconds,
 * HeartbeatSeconds (callbacks) and abort wins; deadlines count from the recorded TaskStarted time, so a
 * restart does not extend them.
 */
export async function runTaskAttempt(
  run: ExecutionRun,
  cursor: Cursor,
  req: TaskRequest,
  deps: RunDeps,
): Promise<TaskOutcome> {
  const recorded = run.find(`${req.key}:outcome`);
  if (recorded) return outcomeOf(recorded);
  const name = actionNameOf(req.resource);
  const resource = {
    resourceType: req.resource.startsWith('rebound:') ? 'rebound' : 'local',
    resource: name + (req.taskToken ? CALLBACK_SUFFIX : ''),
  };
  // The engine is stopping: hold before TaskStarted is recorded, or the deadlines, which count from it,
  // would run while the process is down, and the attempt could time out after the restart before its
  // action ever ran. The run is let go shortly (Engine.stop), and this attempt is made after the restart.
  if (deps.actions.isClosed && !run.find(`${req.key}:started`)) await held(req.signal);
  const started = run.emit(cursor, `${req.key}:started`, 'TaskStarted', resource);
  if (req.taskToken !== undefined) {
    await run.durable();
    await run.stored(
      deps.store.putTaskToken({
        token: req.taskToken,
        executionId: run.executionId,
        key: req.key,
        createdAt: started.timestamp,
      }),
      'storing a task token',
    );
  }
  const raw = await new TaskAttempt(run, cursor, req, deps, started.timestamp, name).start();
  const at = deps.clock.now();
  deps.metrics?.taskDuration.observe(
    { resource: name, outcome: raw.ok ? 'succeeded' : 'failed' },
    Math.max(0, at - started.timestamp) / 1000,
  );
  if (raw.ok) {
    const e = run.emit(cursor, `${req.key}:outcome`, 'TaskSucceeded', {
      ...resource,
      output: raw.output,
    });
    return { ok: true, output: raw.output, at: e.timestamp };
  }
  const e = run.emit(cursor, `${req.key}:outcome`, raw.timedOut ? 'TaskTimedOut' : 'TaskFailed', {
    ...resource,
    error: raw.error,
    cause: raw.cause,
  });
  return { ok: false, error: raw.error, cause: raw.cause, at: e.timestamp };
}

/**
 * One attempt's race between its action, its deadlines, its callback and the abort of its execution or
 * branch; `result` settles with the first. A class rather than a closure per handler: attempts are the
 * engine's hottest path, and each closure costs an allocation (and, under tsx, a property definition).
 */
class TaskAttempt {
  readonly result: Promise<Raw>;
  private resolve!: (raw: Raw) => void;
  private reject!: (err: unknown) => void;
  private readonly actionAbort = new AbortController();
  private readonly cleanups: (() => void)[] = [];
  private settled = false;
  private acting = true;

  constructor(
    private readonly run: ExecutionRun,
    private readonly cursor: Cursor,
    private readonly req: TaskRequest,
    private readonly deps: RunDeps,
    private readonly startedAt: number,
    private readonly name: string,
  ) {
    this.result = new Promise<Raw>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  start(): Promise<Raw> {
    const { run, req, deps, startedAt, name } = this;
    if (req.signal.aborted) {
      this.handleEvent();
      return this.result;
    }
    req.signal.addEventListener('abort', this, { once: true });
    // The engine is stopping: the action does not start, and the attempt holds until the run is let go. It
    // resumes after the restart with the same idempotency key, nothing having been sent under it. Before
    // its deadlines are armed: an attempt that never started must not time out.
    const writes = deps.runner.readOnly?.(name) !== true;
    if (!deps.actions.enter(writes)) return this.result;
    if (req.timeoutSeconds !== undefined) {
      const left = startedAt + req.timeoutSeconds * 1000 - deps.clock.now();
      const cause = `The task did not finish within its TimeoutSeconds (${req.timeoutSeconds})`;
      this.cleanups.push(
        deps.clock.setTimer(left, () =>
          this.timeOut({ ok: false, error: STATES_ERRORS.Timeout, cause, timedOut: true }),
        ),
      );
    }
    if (req.taskToken !== undefined) {
      waitForCallback(
        run,
        req,
        deps,
        startedAt,
        (outcome) => this.finish(outcome),
        (raw) => this.timeOut(raw),
        this.cleanups,
      );
    }
    if (!deps.runner.has(name)) {
      deps.actions.leave(writes);
      const cause =
        deps.runner.describeMissing?.(name) ??
        `no action named '${name}' is registered; check the Task's Resource or the installed actions`;
      this.closeToken(STATES_ERRORS.TaskFailed, cause);
      this.settle({ ok: false, error: STATES_ERRORS.TaskFailed, cause });
      return this.result;
    }
    deps.runner
      .run(name, req.parameters, {
        idempotencyKey: req.idempotencyKey,
        shadow: deps.shadow,
        // Aborted when the attempt ends while the action still runs (abort of req.signal, a deadline).
        signal: this.actionAbort.signal,
        correlationId: run.record.correlationId,
        executionId: run.executionId,
        runbook: run.record.machineName,
        ...(req.taskToken === undefined ? {} : { taskToken: req.taskToken }),
        ...run.incident,
        now: run.nowDate,
      })
      .then(
        (result) => {
          deps.actions.leave(writes);
          this.acted(result.output);
        },
        (err: unknown) => {
          deps.actions.leave(writes);
          this.actionFailed(err);
        },
      );
    return this.result;
  }

  /** The execution or branch aborted: `req.signal` calls this (the attempt is its listener object). */
  handleEvent(): void {
    const reason: unknown = this.req.signal.reason;
    if (!(reason instanceof Detached))
      this.closeToken('TaskAborted', `the task ended before its callback: ${describeError(reason)}`);
    this.abandon(reason);
  }

  private acted(result: unknown): void {
    this.acting = false;
    let output: Json;
    try {
      output = asJson(result);
    } catch (err) {
      return this.actionFailed(
        new StatesError(STATES_ERRORS.TaskFailed, `the task's result is not JSON: ${describeError(err)}`),
      );
    }
    if (this.req.taskToken === undefined) return this.settle({ ok: true, output });
    if (!this.settled)
      this.run.emit(this.cursor, `${this.req.key}:submitted`, 'TaskSubmitted', {
        resource: this.name + CALLBACK_SUFFIX,
        output,
      });
  }

  private actionFailed(err: unknown): void {
    this.acting = false;
    if (this.settled) return;
    const e = toStatesError(err);
    this.closeToken(e.error, e.cause_);
    this.settle({ ok: false, error: e.error, cause: e.cause_ });
  }

  private finish(outcome: CallbackOutcome): void {
    this.settle(outcome.ok ? outcome : { ok: false, error: outcome.error, cause: outcome.cause });
  }

  /** A deadline passed. A timeout claims the token first: a SendTask call that committed before it wins. */
  private timeOut(raw: Extract<Raw, { ok: false }>): void {
    if (this.settled) return;
    const { run, deps } = this;
    const token = this.req.taskToken;
    if (token === undefined) return this.settle(raw);
    run
      .stored(
        deps.store.completeTaskToken(token, { ok: false, error: raw.error, cause: raw.cause }),
        'closing a task token',
      )
      .then(async (claimed) => {
        const answered = claimed
          ? undefined
          : (await run.stored(deps.store.getTaskToken(token), 'reading a task token'))?.outcome;
        if (answered) this.finish(answered);
        else this.settle(raw);
      })
      .catch((err: unknown) => this.abandon(err));
  }

  /**
   * A callback task that ends any other way than by its token closes the token, so that a late SendTask
   * call is refused rather than acknowledged and dropped. A run that only lets go of the execution
   * (Detached: shutdown, lost lease) leaves it open for whoever resumes the task.
   */
  private closeToken(error: string, cause: string): void {
    const token = this.req.taskToken;
    if (token === undefined) return;
    this.deps.store
      .completeTaskToken(token, { ok: false, error, cause })
      .catch((err: unknown) => this.deps.onError(this.run.executionId, err));
  }

  private settle(raw: Raw): void {
    if (this.end()) this.resolve(raw);
  }

  /** Ends the attempt without an outcome: the run stops here (an abort, a store that failed). */
  private abandon(err: unknown): void {
    if (this.end()) this.reject(err);
  }

  /** Ends the attempt once: false when it had ended already. */
  private end(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.req.signal.removeEventListener('abort', this);
    for (const cleanup of this.cleanups) cleanup();
    // An action still running is told the attempt ended (a deadline, an abort, an early callback answer).
    if (this.acting) this.actionAbort.abort(new Error('the task attempt ended'));
    return true;
  }
}

/** Registers the callback waiter, applies an outcome that arrived while the engine was down, arms heartbeats. */
function waitForCallback(
  run: ExecutionRun,
  req: TaskRequest,
  deps: RunDeps,
  startedAt: number,
  finish: (o: CallbackOutcome) => void,
  fail: (r: Extract<Raw, { ok: false }>) => void,
  cleanups: (() => void)[],
): void {
  const token = req.taskToken!;
  let cancelBeat: (() => void) | undefined;
  let lastBeat = startedAt;
  let stopped = false;
  const arm = (from: number) => {
    if (req.heartbeatSeconds === undefined || stopped) return;
    lastBeat = Math.max(lastBeat, from);
    cancelBeat?.();
    const left = lastBeat + req.heartbeatSeconds * 1000 - deps.clock.now();
    const cause = `No heartbeat within HeartbeatSeconds (${req.heartbeatSeconds})`;
    cancelBeat = deps.clock.setTimer(left, () => {
      // A heartbeat sent to another worker is only in the store: look there before giving up.
      deps.store.getTaskToken(token).then(
        (record) => {
          if (stopped) return;
          if (record?.lastHeartbeat !== undefined && record.lastHeartbeat > lastBeat)
            arm(record.lastHeartbeat);
          else fail({ ok: false, error: STATES_ERRORS.HeartbeatTimeout, cause, timedOut: true });
        },
        (err: unknown) => {
          // The store did not answer: not a missed heartbeat. Ask again shortly.
          deps.onError(run.executionId, err);
          if (!stopped) cancelBeat = deps.clock.setTimer(CALLBACK_POLL_MS, () => arm(lastBeat));
        },
      );
    });
  };
  cleanups.push(deps.callbacks.register(token, { deliver: finish, heartbeat: arm }));
  cleanups.push(() => cancelBeat?.());
  arm(startedAt);
  // The answer may reach another worker (or arrive while this one was down): it is stored with the token,
  // so look there now and every few seconds; answers sent to this process arrive at once via `deliver`.
  let cancelPoll: (() => void) | undefined;
  cleanups.push(() => {
    stopped = true;
    cancelPoll?.();
  });
  const check = () => {
    deps.store.getTaskToken(token).then(
      (record) => {
        if (stopped) return;
        if (record?.lastHeartbeat !== undefined && record.lastHeartbeat > lastBeat) arm(record.lastHeartbeat);
        if (record?.outcome) return finish(record.outcome);
        cancelPoll = deps.clock.setTimer(CALLBACK_POLL_MS, check);
      },
      (err: unknown) => {
        // A failed read must not end the polling: answers stored by another worker would never be seen.
        deps.onError(run.executionId, err);
        if (!stopped) cancelPoll = deps.clock.setTimer(CALLBACK_POLL_MS, check);
      },
    );
  };
  check();
}

const CALLBACK_POLL_MS = 5000;

/**
 * What an execution's input says about the incident it remediates, for guard rails and the timeline: an
 * `incidentId` (or `incident.id`) field, and the alert labels of an EventBridge alert event (`detail.labels`)
 * or of `incident.labels`.
 */
export function incidentContext(input: unknown): { incidentId?: string; labels?: Record<string, string> } {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return {};
  const record = input as Record<string, unknown>;
  const incident = isObject(record['incident']) ? record['incident'] : undefined;
  const detail = isObject(record['detail']) ? record['detail'] : undefined;
  const id = typeof record['incidentId'] === 'string' ? record['incidentId'] : incident?.['id'];
  const labels = [incident?.['labels'], detail?.['labels']].find(isStringMap);
  return { ...(typeof id === 'string' ? { incidentId: id } : {}), ...(labels ? { labels } : {}) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isStringMap(value: unknown): value is Record<string, string> {
  return isObject(value) && Object.values(value).every((v) => typeof v === 'string');
}

/** Waits until `signal` aborts (the run is let go, or stopped), then throws its reason. */
function held(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });
}
