import { randomUUID } from 'node:crypto';
import type { ActionRunner } from '../actions/types.ts';
import { ReboundError, describeError } from '../errors.ts';
import { timeOrderedUuid } from '../events/ids.ts';
import { ActionGate } from './action-gate.ts';
import { systemClock, type Clock } from './clock.ts';
import { Detached } from './errors.ts';
import { ExecutionRun, type Ending, type RunDeps } from './execution.ts';
import { toHistoryEvent, type HistoryEvent, type StoredEvent } from './history.ts';
import type { WorkflowMetrics } from './metrics.ts';
import type {
  CallbackOutcome,
  ExecutionPage,
  ExecutionRecord,
  ListExecutionsQuery,
  WorkflowStore,
} from './port.ts';
import type { WorkflowRegistry } from './registry.ts';
import { isRedrivable, isTerminal, type ExecutionStatus } from './statuses.ts';
import { hideTaskTokens } from './hidden-tokens.ts';
import { CallbackWaiters } from './task-runner.ts';
import { CALLBACK_SUFFIX, scheduledIdempotencyKey, taskTokenOf } from './task-state.ts';
import type { Json, MachineDefinition } from './types.ts';
import { assertValidDefinition } from './validate.ts';

export interface EngineOptions {
  readonly store: WorkflowStore;
  readonly runner: ActionRunner;
  readonly registry?: WorkflowRegistry;
  readonly clock?: Clock;
  readonly workerId?: string;
  readonly leaseMs?: number;
  readonly reaperIntervalMs?: number;
  readonly tokenSecret?: string;
  readonly shadow?: boolean;
  /** Run asl-validator's schema check on inline definitions too (default true; registered ones always are). */
  readonly schemaCheckInline?: boolean;
  /** The actions a Task may name in an inline definition, checked before it starts (default: not checked). */
  readonly knownActions?: ReadonlySet<string>;
  readonly metrics?: WorkflowMetrics;
  /**
   * How long new history events may wait in memory before being written (default 10 ms). Events of all
   * executions written in one window share one transaction and one fsync; see ExecutionRun.flush.
   */
  readonly flushDelayMs?: number;
  /**
   * At `stop()`, how long (wall-clock ms) the task actions already running may take to finish before the
   * executions are let go (default 0: at once). New actions do not start meanwhile. See ActionGate.
   */
  readonly stopGraceMs?: number;
  /** Called with errors that have no caller to go to (a failed background write, a bug). */
  readonly onError?: (executionId: string, err: unknown) => void;
  /**
   * Told when an execution starts (after its first event is durable) and when it ends in this process
   * (after the terminal event is durable): the incident timeline and live views listen here.
   */
  readonly onExecutionStatus?: (change: ExecutionStatusChange) => void;
}

export interface ExecutionStatusChange {
  readonly record: ExecutionRecord;
  readonly status: ExecutionStatus;
  readonly error?: string;
  readonly cause?: string;
}

export interface StartOptions {
  readonly name?: string;
  readonly correlationId?: string;
}

export interface StartedExecution {
  readonly executionId: string;
  readonly name: string;
  readonly startTime: number;
}

/**
 * The durable workflow engine: starts executions, runs many of them concurrently, resumes them after a
 * restart (or after their worker died), and routes callbacks, stops and redrives to them.
 */
export class Engine {
  private readonly runs = new Map<string, ExecutionRun>();
  /** Executions being loaded to resume: a second caller (the reaper racing a redrive or a stop) joins it. */
  private readonly resuming = new Map<string, Promise<ExecutionRun>>();
  private readonly callbacks = new CallbackWaiters();
  private readonly clock: Clock;
  private readonly owner: string;
  private readonly leaseMs: number;
  private cancelReaper: (() => void) | undefined;
  private started = false;
  private readonly actions = new ActionGate();
  private readonly deps: RunDeps;

  constructor(private readonly options: EngineOptions) {
    this.clock = options.clock ?? systemClock;
    this.owner = options.workerId ?? `rebound-${randomUUID()}`;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.deps = {
      store: options.store,
      runner: options.runner,
      clock: this.clock,
      owner: this.owner,
      tokenSecret: options.tokenSecret ?? 'rebound-task-tokens',
      shadow: options.shadow ?? false,
      metrics: options.metrics,
      callbacks: this.callbacks,
      onError: options.onError ?? (() => undefined),
      scheduleFlush: (run, urgent) => this.scheduleFlush(run, urgent ?? false),
      actions: this.actions,
    };
  }

  /** Resumes this worker's executions and those of dead workers, then keeps reaping on an interval. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.actions.open();
    await this.reap();
    const interval = this.options.reaperIntervalMs ?? 5000;
    const tick = () => {
      this.cancelReaper = this.clock.setTimer(interval, () => {
        // A stop that came while this pass ran has cancelled nothing: the pass must not re-arm the reaper.
        this.reap().then(
          () => {
            if (this.started) tick();
          },
          (err: unknown) => {
            this.deps.onError('reaper', err);
            if (this.started) tick();
          },
        );
      });
    };
    tick();
  }

  /**
   * Stops reaping and detaches every running execution; they stay RUNNING and resume on the next start.
   * First, no new task action starts, and those already running get `stopGraceMs` to finish (their outcome is
   * recorded; one cut off after a write would leave it unknown). Returns how many were still running then.
   */
  async stop(): Promise<{ cutOff: number }> {
    this.started = false;
    this.cancelReaper?.();
    // The reaper renewed our leases; it no longer runs. Renew them once more, and wait at most two thirds of
    // a lease: an action finishing after another worker took its execution over could not record its outcome.
    let grace = this.options.stopGraceMs ?? 0;
    if (grace > 0) {
      try {
        await this.options.store.renewLeases(this.owner, this.clock.now() + this.leaseMs);
        grace = Math.min(grace, (this.leaseMs * 2) / 3);
      } catch (err) {
        this.deps.onError('stop', err);
        grace = 0; // leases we cannot renew may lapse any moment: let go now
      }
    }
    const cutOff = await this.actions.close(grace);
    const runs = [...this.runs.values()];
    for (const run of runs) run.detach('engine stopped');
    await Promise.allSettled(runs.map((r) => r.done));
    if (this.flushTimer !== undefined) {
      clearTimeout(this.flushTimer as NodeJS.Timeout);
      clearImmediate(this.flushTimer as NodeJS.Immediate);
      this.flushTimer = undefined;
    }
    for (const r of this.dirty) r.flush();
    this.dirty.clear();
    return { cutOff };
  }

  /** One reaper pass: renew our leases, then claim and resume executions nobody (alive) runs. */
  async reap(): Promise<number> {
    const now = this.clock.now();
    await this.options.store.renewLeases(this.owner, now + this.leaseMs);
    const ids = await this.options.store.claimableExecutions(this.owner, now, 500);
    let resumed = 0;
    for (const id of ids) {
      if (this.runs.has(id)) continue;
      if (await this.options.store.acquireLease(id, this.owner, now + this.leaseMs, now)) {
        await this.resume(id);
        resumed += 1;
      }
    }
    return resumed;
  }

  /** Starts an execution of a registered workflow (by name) or of a definition given inline. */
  async startExecution(
    workflow: string | MachineDefinition,
    input: Json,
    options: StartOptions = {},
  ): Promise<StartedExecution> {
    const [machineName, definition] =
      typeof workflow === 'string'
        ? [workflow, this.requireRegistry().require(workflow).definition]
        : [
            'inline',
            assertValidDefinition(
              workflow,
              {
                schema: this.options.schemaCheckInline ?? true,
                ...(this.options.knownActions ? { knownActions: this.options.knownActions } : {}),
              },
              'the definition',
            ),
          ];
    // Unnamed: a UUID, time-ordered so that new executions append to the id and name indexes.
    const name = options.name ?? timeOrderedUuid();
    const now = this.clock.now();
    const id = `${machineName}:${name}`;
    const record: ExecutionRecord = {
      id,
      name,
      machineName,
      definition,
      input,
      status: 'RUNNING',
      startTime: now,
      correlationId: options.correlationId,
      redriveCount: 0,
      owner: this.owner,
      leaseUntil: now + this.leaseMs,
    };
    const started: StoredEvent = {
      id: 1,
      previousEventId: 0,
      timestamp: now,
      type: 'ExecutionStarted',
      details: {
        input,
        stateMachineArn: `rebound:stateMachine:${machineName}`,
        roleArn: '',
      },
      key: 'exec:started',
      epoch: 0,
    };
    await this.options.store.createExecution(record, [started]);
    this.options.metrics?.executionStatus('RUNNING');
    this.launch(record, [started], []);
    this.options.onExecutionStatus?.({ record, status: 'RUNNING' });
    return { executionId: id, name, startTime: now };
  }

  /** Resolves with the execution's record once it is no longer running in this process. */
  async waitFor(executionId: string): Promise<ExecutionRecord> {
    const run = this.runs.get(executionId);
    if (run) {
      const ending = await run.done.catch(() => undefined);
      // The terminal write has committed when `done` resolves; answer from memory.
      if (ending)
        return {
          ...run.record,
          ...ending,
          stopTime: ending.stopTime,
          owner: undefined,
          leaseUntil: undefined,
        };
    }
    return this.describe(executionId);
  }

  async describe(executionId: string): Promise<ExecutionRecord> {
    const record = await this.options.store.getExecution(executionId);
    if (!record)
      throw new ReboundError(
        'NOT_FOUND',
        `no execution '${executionId}'; list them with \`rebound executions list\``,
      );
    return record;
  }

  /**
   * The execution's history. `hideTaskTokens`: every callback token issued to it is replaced by a marker,
   * wherever it appears (a token is a capability: whoever holds it completes the task).
   */
  async history(executionId: string, options: { hideTaskTokens?: boolean } = {}): Promise<HistoryEvent[]> {
    await this.describe(executionId);
    const stored = await this.options.store.loadHistory(executionId);
    const events = stored.map(toHistoryEvent);
    if (!options.hideTaskTokens) return events;
    // Every token was issued with a TaskScheduled event of a callback resource, and is derived from its key
    // (so one is hidden even before it is registered); the registered ones are hidden too, in case they were
    // derived with a secret since rotated.
    const derived = stored.flatMap((e) => {
      const callback =
        e.type === 'TaskScheduled' && String(e.details?.['resource']).endsWith(CALLBACK_SUFFIX);
      const key = callback ? scheduledIdempotencyKey(executionId, e.key) : undefined;
      return key === undefined ? [] : [taskTokenOf(this.deps.tokenSecret, key)];
    });
    const registered = await this.options.store.taskTokensOf(executionId);
    return hideTaskTokens(events, [...new Set([...derived, ...registered])]);
  }

  /** True while an execution of this process whose input names the incident (`incidentId`) is running. */
  isWorkingOn(incidentId: string): boolean {
    for (const run of this.runs.values()) if (run.incident.incidentId === incidentId) return true;
    return false;
  }

  list(query: ListExecutionsQuery): Promise<ExecutionPage> {
    return this.options.store.listExecutions(query);
  }

  /** Stops a running execution: its tasks are cancelled and history records ExecutionAborted. */
  async stopExecution(executionId: string, error?: string, cause?: string): Promise<ExecutionRecord> {
    const record = await this.describe(executionId);
    if (isTerminal(record.status)) {
      throw new ReboundError(
        'ILLEGAL_TRANSITION',
        `execution '${executionId}' already ended with ${record.status}`,
      );
    }
    let run = this.runs.get(executionId);
    if (!run) {
      const now = this.clock.now();
      if (!(await this.options.store.acquireLease(executionId, this.owner, now + this.leaseMs, now))) {
        throw new ReboundError(
          'CONFLICT',
          `execution '${executionId}' is run by another live worker; retry there or after its lease expires`,
        );
      }
      run = await this.resume(executionId);
    }
    run.stop(error, cause);
    return this.waitFor(executionId);
  }

  /** Redrives a FAILED, TIMED_OUT or ABORTED execution from where it failed; succeeded states are not re-run. */
  async redrive(executionId: string): Promise<ExecutionRecord> {
    const record = await this.describe(executionId);
    if (!isRedrivable(record.status)) {
      throw new ReboundError(
        'ILLEGAL_TRANSITION',
        `execution '${executionId}' is ${record.status}; only FAILED, TIMED_OUT or ABORTED executions can be redriven`,
      );
    }
    const history = await this.options.store.loadHistory(executionId);
    const last = history[history.length - 1]!;
    const redriveCount = record.redriveCount + 1;
    const event: StoredEvent = {
      id: last.id + 1,
      previousEventId: last.id,
      timestamp: this.clock.now(),
      type: 'ExecutionRedriven',
      details: { redriveCount },
      key: `exec:redriven@${redriveCount}`,
      epoch: redriveCount,
    };
    const now = this.clock.now();
    await this.options.store.redriveExecution(
      executionId,
      this.owner,
      now + this.leaseMs,
      event,
      redriveCount,
    );
    this.options.metrics?.executionStatus('RUNNING');
    await this.resume(executionId);
    return this.describe(executionId);
  }

  sendTaskSuccess(token: string, output: Json): Promise<void> {
    return this.complete(token, { ok: true, output });
  }

  sendTaskFailure(token: string, error = '', cause = ''): Promise<void> {
    return this.complete(token, { ok: false, error, cause });
  }

  /** Records a heartbeat for a callback task (resets its HeartbeatSeconds clock). */
  async sendTaskHeartbeat(token: string): Promise<void> {
    await this.openToken(token);
    const now = this.clock.now();
    await this.options.store.heartbeatTaskToken(token, now);
    this.callbacks.heartbeat(token, now);
  }

  private async complete(token: string, outcome: CallbackOutcome): Promise<void> {
    await this.openToken(token);
    if (!(await this.options.store.completeTaskToken(token, outcome))) {
      throw new ReboundError(
        'ILLEGAL_TRANSITION',
        'task token already used: another SendTask call or the end of its task closed it first ' +
          '(Step Functions: TaskTimedOut)',
      );
    }
    this.callbacks.deliver(token, outcome);
  }

  private async openToken(token: string): Promise<void> {
    const record = await this.options.store.getTaskToken(token);
    if (!record)
      throw new ReboundError(
        'NOT_FOUND',
        'unknown task token (InvalidToken): pass the $$.Task.Token the task received',
      );
    const execution = await this.describe(record.executionId);
    if (!record.outcome && !isTerminal(execution.status)) return;
    const task = record.outcome
      ? await this.taskEnd(record.executionId, record.key, record.outcome)
      : { closed: 'task token closed', how: undefined };
    const ended = isTerminal(execution.status)
      ? `the execution ended with ${execution.status}${at(execution.stopTime)}`
      : undefined;
    // What happened, then Step Functions' name for refusing a token whose task or execution has ended.
    throw new ReboundError(
      'ILLEGAL_TRANSITION',
      `${task.closed}: ${[task.how, ended].filter((part) => part !== undefined).join('; ')} ` +
        '(Step Functions: TaskTimedOut)',
    );
  }

  /** How the task a token belongs to ended, and when (from its outcome event, once that is in the history). */
  private async taskEnd(
    executionId: string,
    key: string,
    outcome: CallbackOutcome,
  ): Promise<{ closed: string; how: string }> {
    const event = (await this.options.store.loadHistory(executionId))
      .filter((e) => e.key === `${key}:outcome`)
      .pop();
    const when = at(event?.timestamp);
    if (outcome.ok) return { closed: 'task token already used', how: `the task succeeded${when}` };
    if (event?.type === 'TaskTimedOut')
      return { closed: 'task token expired', how: `the task timed out (${outcome.error})${when}` };
    return {
      closed: 'task token closed',
      how: `the task failed with ${outcome.error || 'no error name'}${when}`,
    };
  }

  private readonly dirty = new Set<ExecutionRun>();
  private flushTimer: NodeJS.Timeout | NodeJS.Immediate | undefined;

  private flushIsImmediate = false;

  /** Batches writes: within `flushDelayMs` normally, or on the next turn when a run waits for its write. */
  private scheduleFlush(run: ExecutionRun, urgent: boolean): void {
    this.dirty.add(run);
    if (this.flushTimer !== undefined && (this.flushIsImmediate || !urgent)) return;
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer as NodeJS.Timeout);
    const flushAll = () => {
      this.flushTimer = undefined;
      const runs = [...this.dirty];
      this.dirty.clear();
      const writes = runs.map((r) => r.takeWrite());
      const batch = writes.filter((w) => w !== undefined);
      if (batch.length === 0) return;
      // One write for every execution's events of this window: one transaction, one fsync.
      const results = this.options.store.appendBatch(batch);
      let i = 0;
      runs.forEach((run, k) => {
        if (writes[k] === undefined) return;
        const index = i++;
        run.attachWrite(
          results.then((errors) => {
            if (errors[index]) throw errors[index];
          }),
        );
      });
    };
    const delay = urgent ? 0 : (this.options.flushDelayMs ?? 10);
    this.flushIsImmediate = delay === 0;
    // Real time on purpose: this is write batching, not workflow time (which a test clock may control).
    this.flushTimer = delay > 0 ? setTimeout(flushAll, delay) : setImmediate(flushAll);
  }

  private requireRegistry(): WorkflowRegistry {
    if (!this.options.registry)
      throw new ReboundError('NOT_FOUND', 'no workflow registry is configured; pass a definition instead');
    return this.options.registry;
  }

  /** The execution's run in this process, resumed from its history unless it runs already. One run per
   * execution: two would request the same tasks twice and write clashing history. */
  private resume(executionId: string): Promise<ExecutionRun> {
    const running = this.runs.get(executionId);
    if (running) return Promise.resolve(running);
    let loading = this.resuming.get(executionId);
    if (!loading) {
      loading = this.load(executionId).finally(() => this.resuming.delete(executionId));
      this.resuming.set(executionId, loading);
    }
    return loading;
  }

  private async load(executionId: string): Promise<ExecutionRun> {
    const record = await this.describe(executionId);
    const [history, timers] = await Promise.all([
      this.options.store.loadHistory(executionId),
      this.options.store.loadTimers(executionId),
    ]);
    return this.launch(record, history, timers);
  }

  private launch(
    record: ExecutionRecord,
    history: StoredEvent[],
    timers: Awaited<ReturnType<WorkflowStore['loadTimers']>>,
  ): ExecutionRun {
    const run = new ExecutionRun(record, history, timers, this.deps);
    this.runs.set(record.id, run);
    this.options.metrics?.running.inc();
    run.done.then(
      (ending: Ending) => {
        this.options.metrics?.executionStatus(ending.status);
        this.forget(record.id, run);
        const { status, error, cause } = ending;
        this.options.onExecutionStatus?.({ record, status, error, cause });
      },
      (err: unknown) => {
        if (!(err instanceof Detached))
          this.deps.onError(record.id, new Error(`execution stopped: ${describeError(err)}`));
        this.forget(record.id, run);
      },
    );
    return run;
  }

  private forget(id: string, run: ExecutionRun): void {
    if (this.runs.get(id) === run) this.runs.delete(id);
    this.options.metrics?.running.dec();
  }

  /** Number of executions running in this process. */
  get active(): number {
    return this.runs.size;
  }
}

/** ` at <ISO time>`, or nothing when the time is not known. */
function at(time: number | undefined): string {
  return time === undefined ? '' : ` at ${new Date(time).toISOString()}`;
}
