import type { ActionRunner } from '../actions/types.ts';
import { describeError } from '../errors.ts';
import type { ActionGate } from './action-gate.ts';
import type { Clock } from './clock.ts';
import { Detached, ExecutionInterrupted, StatesError, STATES_ERRORS } from './errors.ts';
import { Frame } from './frame.ts';
import { isFailureEvent, type EventDetails, type HistoryEventType, type StoredEvent } from './history.ts';
import { runMachine } from './interpreter.ts';
import type { Cursor, Journal, TaskOutcome, TaskRequest } from './journal.ts';
import type { WorkflowMetrics } from './metrics.ts';
import type { AppendRequest, ExecutionRecord, ExecutionUpdate, WorkflowStore } from './port.ts';
import { seededRandom } from './random.ts';
import type { ExecutionStatus } from './statuses.ts';
import { incidentContext, runTaskAttempt, type CallbackWaiters } from './task-runner.ts';
import { taskTokenOf } from './task-state.ts';
import type { Json } from './types.ts';

/** The history quota of a Step Functions standard workflow. */
export const MAX_HISTORY_EVENTS = 25_000;

export interface RunDeps {
  readonly store: WorkflowStore;
  readonly runner: ActionRunner;
  readonly clock: Clock;
  readonly owner: string;
  readonly tokenSecret: string;
  readonly shadow: boolean;
  readonly metrics: WorkflowMetrics | undefined;
  readonly callbacks: CallbackWaiters;
  readonly onError: (executionId: string, err: unknown) => void;
  /** Asks for `run.flush()` soon; the engine batches flushes of all executions into one group commit. */
  readonly scheduleFlush: (run: ExecutionRun, urgent?: boolean) => void;
  /** Counts the task actions running, and holds new ones back once a stop has begun. */
  readonly actions: ActionGate;
}

export interface Ending {
  readonly status: ExecutionStatus;
  readonly stopTime?: number;
  readonly output?: Json;
  readonly error?: string;
  readonly cause?: string;
}

/**
 * One execution running in this process: the Journal the interpreter talks to. It indexes the recorded
 * history by replay key, answers replayed decisions from it, and appends new events in one group-committed
 * write per execution per event-loop turn.
 */
export class ExecutionRun implements Journal {
  readonly executionId: string;
  readonly executionName: string;
  readonly machineId: string;
  readonly machineName: string;
  readonly startTime: number;
  /** When the machine's TimeoutSeconds started counting: the start, or the latest redrive. */
  private readonly timeoutFrom: number;
  readonly input: Json;
  readonly epoch: number;
  /** What the input says about the incident, passed to every action the execution runs. */
  readonly incident: { incidentId?: string; labels?: Record<string, string> };
  /** The workflow clock as a Date, for actions (`ActionContext.now`). */
  readonly nowDate = (): Date => new Date(this.deps.clock.now());
  private readonly byKey = new Map<string, StoredEvent>();
  private readonly timers = new Map<string, { fireAt: number; fired: boolean }>();
  private readonly abort = new AbortController();
  private pending: StoredEvent[] = [];
  private lastWrite: Promise<void> = Promise.resolve();
  private flushScheduled = false;
  private finalUpdate: ExecutionUpdate | undefined;
  private waiters: (() => void)[] = [];
  private nextId: number;
  private writeError: unknown;
  readonly done: Promise<Ending>;

  constructor(
    readonly record: ExecutionRecord,
    history: readonly StoredEvent[],
    timers: readonly { key: string; fireAt: number; firedAt?: number | undefined }[],
    private readonly deps: RunDeps,
  ) {
    this.executionId = record.id;
    this.executionName = record.name;
    this.machineName = record.machineName;
    this.machineId = `rebound:stateMachine:${record.machineName}`;
    this.startTime = record.startTime;
    this.input = record.input;
    this.epoch = record.redriveCount;
    this.incident = incidentContext(record.input);
    let timeoutFrom = record.startTime;
    for (const e of history) {
      this.byKey.set(e.key, e);
      // A redrive resets the machine's TimeoutSeconds (as Step Functions does): it counts from the redrive.
      if (e.type === 'ExecutionRedriven') timeoutFrom = e.timestamp;
    }
    this.timeoutFrom = timeoutFrom;
    for (const t of timers) this.timers.set(t.key, { fireAt: t.fireAt, fired: t.firedAt !== undefined });
    this.nextId = history.length === 0 ? 1 : history[history.length - 1]!.id + 1;
    this.done = this.run(history[history.length - 1]?.id ?? 0);
  }

  now(): number {
    return this.deps.clock.now();
  }

  /** Stops the execution: running tasks see the abort, history records ExecutionAborted. */
  stop(error: string | undefined, cause: string | undefined): void {
    this.abort.abort(
      Object.assign(new ExecutionInterrupted('aborted'), { stopError: error, stopCause: cause }),
    );
  }

  /** Leaves the execution RUNNING for another start (or worker) to resume; used at shutdown. */
  detach(reason: string): void {
    this.abort.abort(new Detached(reason));
  }

  /**
   * A store call the run cannot go on without. Its failure (a busy or full disk, say) detaches the run, so
   * the reaper resumes the execution from its history, instead of failing it with States.Runtime.
   */
  async stored<T>(call: Promise<T>, what: string): Promise<T> {
    try {
      return await call;
    } catch (err) {
      this.deps.onError(this.executionId, err);
      this.detach(`${what} failed: ${describeError(err)}`);
      throw this.abort.signal.reason;
    }
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  emit(
    cursor: Cursor,
    key: string,
    type: HistoryEventType,
    details?: EventDetails,
    next?: string,
  ): StoredEvent {
    const existing = this.find(key);
    if (existing) {
      cursor.lastEventId = existing.id;
      return existing;
    }
    if (!key.startsWith('exec:')) {
      if (this.abort.signal.aborted) throw this.abort.signal.reason;
      // Step Functions' own quota: a runbook that fits here also runs there, and a runaway loop ends.
      if (this.nextId > MAX_HISTORY_EVENTS)
        throw new StatesError(
          STATES_ERRORS.Runtime,
          `the execution history reached ${MAX_HISTORY_EVENTS} events, the most an execution may have`,
        );
    }
    const event: StoredEvent = {
      id: this.nextId++,
      previousEventId: cursor.lastEventId,
      timestamp: this.deps.clock.now(),
      type,
      details,
      key,
      epoch: this.epoch,
      next,
    };
    this.byKey.set(key, event);
    this.pending.push(event);
    cursor.lastEventId = event.id;
    if (type.endsWith('StateEntered')) this.deps.metrics?.transitions.inc();
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.deps.scheduleFlush(this);
    }
    return event;
  }

  find(key: string): StoredEvent | undefined {
    const e = this.byKey.get(key);
    return e && isFailureEvent(e.type) && e.epoch < this.epoch ? undefined : e;
  }

  findExit(visitKey: string): StoredEvent | undefined {
    return this.byKey.get(visitKey + ':exit');
  }

  random(key: string): () => number {
    return seededRandom(`${this.executionId}|${key}`);
  }

  taskToken(idempotencyKey: string): string {
    return taskTokenOf(this.deps.tokenSecret, idempotencyKey);
  }

  runTask(cursor: Cursor, request: TaskRequest): Promise<TaskOutcome> {
    return runTaskAttempt(this, cursor, request, this.deps);
  }

  /** Resolves once the engine's next (immediate) batched write, carrying this run's events, commits. */
  private writeSoon(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      this.flushScheduled = true;
      this.deps.scheduleFlush(this, true);
    });
  }

  /** Resolves once every event emitted so far is committed. */
  durable(): Promise<void> {
    this.flush();
    return this.lastWrite;
  }

  async sleepUntil(cursor: Cursor, key: string, fireAt: number, signal: AbortSignal): Promise<void> {
    let timer = this.timers.get(key);
    if (!timer) {
      await this.durable();
      const inForce = await this.stored(
        this.deps.store.putTimer({ executionId: this.executionId, key, fireAt }),
        'storing a timer',
      );
      timer = { fireAt: inForce, fired: false };
      this.timers.set(key, timer);
    }
    if (signal.aborted) throw signal.reason;
    const t = timer;
    const fired = () => {
      if (t.fired) return;
      t.fired = true;
      this.deps.metrics?.timerLag.observe(Math.max(0, this.deps.clock.now() - t.fireAt) / 1000);
      this.deps.store
        .markTimerFired(this.executionId, key, this.deps.clock.now())
        .catch((err: unknown) => this.deps.onError(this.executionId, err));
    };
    const wait = t.fireAt - this.deps.clock.now();
    if (t.fired || wait <= 0) return fired();
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        cancel();
        reject(signal.reason);
      };
      const cancel = this.deps.clock.setTimer(wait, () => {
        signal.removeEventListener('abort', onAbort);
        fired();
        resolve();
      });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Writes the events emitted since the last flush. Between flushes, events are only in memory: that is
   * safe because everything they record can be recomputed by replay (task outcomes are re-requested with
   * the same idempotency key). Sleeps, callback registration and the end of the execution flush first.
   */
  flush(update?: ExecutionUpdate): void {
    const write = this.takeWrite(update);
    if (write)
      this.attachWrite(
        this.deps.store.appendEvents(write.executionId, write.owner, write.events, write.update),
      );
  }

  /** Hands over the buffered events (for a batched write by the engine); undefined when there are none. */
  takeWrite(explicit?: ExecutionUpdate): AppendRequest | undefined {
    this.flushScheduled = false;
    const update = explicit ?? this.finalUpdate;
    this.finalUpdate = undefined;
    if (this.pending.length === 0 && !update) return undefined;
    const events = this.pending;
    this.pending = [];
    return { executionId: this.executionId, owner: this.deps.owner, events, update };
  }

  /** Tracks the write that carries this run's events; a failed write detaches the run. */
  attachWrite(write: Promise<void>): void {
    const waiters = this.waiters;
    this.waiters = [];
    this.lastWrite = write.catch((err: unknown) => {
      // A failed append means the lease was lost or the disk failed: stop here; another worker resumes.
      this.writeError ??= err;
      this.detach('history write failed');
    });
    void this.lastWrite.then(() => waiters.forEach((resolve) => resolve()));
  }

  private async run(lastEventId: number): Promise<Ending> {
    const def = this.record.definition;
    const frame = new Frame(
      this,
      'root',
      def.QueryLanguage ?? 'JSONPath',
      this.abort.signal,
      undefined,
      lastEventId,
    );
    let cancelTimeout: (() => void) | undefined;
    if (def.TimeoutSeconds !== undefined) {
      const wait = this.timeoutFrom + def.TimeoutSeconds * 1000 - this.deps.clock.now();
      const timedOut = () => this.abort.abort(new ExecutionInterrupted('timed_out'));
      // Already past (resumed after the deadline): time out before anything runs, not a timer turn later,
      // by which time replay would have reached a new Task and requested its side effect.
      if (wait <= 0) timedOut();
      else cancelTimeout = this.deps.clock.setTimer(wait, timedOut);
    }
    let ending: Ending;
    try {
      const output = await runMachine(def, this.input, frame);
      ending = { status: 'SUCCEEDED', output };
    } catch (err) {
      ending = await this.endingFor(err);
    } finally {
      cancelTimeout?.();
    }
    return this.finish(frame, ending);
  }

  private async endingFor(err: unknown): Promise<Ending> {
    const reason: unknown = this.abort.signal.aborted ? this.abort.signal.reason : err;
    if (reason instanceof Detached) {
      // Keep what was decided so far; the next owner replays from it.
      await this.durable();
      throw reason;
    }
    if (reason instanceof ExecutionInterrupted) {
      if (reason.reason === 'timed_out') {
        return {
          status: 'TIMED_OUT',
          error: STATES_ERRORS.Timeout,
          cause: 'The execution ran longer than the TimeoutSeconds of its state machine',
        };
      }
      const r = reason as ExecutionInterrupted & { stopError?: string; stopCause?: string };
      return { status: 'ABORTED', error: r.stopError ?? '', cause: r.stopCause ?? '' };
    }
    if (reason instanceof StatesError) {
      // A Fail state without Error or Cause: the execution has none, as in Step Functions (not "").
      return {
        status: 'FAILED',
        ...(reason.error === '' ? {} : { error: reason.error }),
        ...(reason.cause_ === '' ? {} : { cause: reason.cause_ }),
      };
    }
    this.deps.onError(this.executionId, reason);
    return {
      status: 'FAILED',
      error: STATES_ERRORS.Runtime,
      cause: `internal error: ${(reason as Error)?.message ?? String(reason)}`,
    };
  }

  private async finish(frame: Frame, ending: Ending): Promise<Ending> {
    if (this.writeError !== undefined) throw new Detached('history write failed');
    const type = (
      {
        SUCCEEDED: 'ExecutionSucceeded',
        FAILED: 'ExecutionFailed',
        TIMED_OUT: 'ExecutionTimedOut',
        ABORTED: 'ExecutionAborted',
        RUNNING: 'ExecutionFailed',
      } as const
    )[ending.status];
    const details =
      ending.status === 'SUCCEEDED'
        ? { output: ending.output }
        : { error: ending.error, cause: ending.cause };
    const at = this.deps.clock.now();
    this.emit(frame, `exec:end@${this.epoch}`, type, details);
    // The terminal write joins the engine's next batch (this turn), shared with other executions' writes.
    this.finalUpdate = {
      status: ending.status,
      stopTime: at,
      output: ending.output,
      error: ending.error,
      cause: ending.cause,
      releaseLease: true,
    };
    await this.writeSoon();
    await this.lastWrite;
    if (this.writeError !== undefined) throw new Detached('history write failed');
    return { ...ending, stopTime: at };
  }
}
