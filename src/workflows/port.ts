import type { StoredEvent } from './history.ts';
import type { ExecutionStatus } from './statuses.ts';
import type { Json, MachineDefinition } from './types.ts';

/**
 * What the workflow engine needs from storage. Every method is a key lookup, an append, or a query by
 * (partition, sort-key range), so it maps onto one DynamoDB table as well as onto SQLite:
 * executions by id, events by (execution, id), executions by (status, start time), timers by fire time,
 * leases as conditional updates, task tokens by token.
 */
export interface WorkflowStore {
  /** Creates an execution and its first events; throws ReboundError CONFLICT when the name is taken. */
  createExecution(record: ExecutionRecord, events: readonly StoredEvent[]): Promise<void>;
  /** Appends events (and applies `update`) if `owner` still holds the lease; throws CONFLICT otherwise. */
  appendEvents(
    executionId: string,
    owner: string,
    events: readonly StoredEvent[],
    update?: ExecutionUpdate,
  ): Promise<void>;
  /**
   * Several appends in one write (one transaction): each is fenced by its owner on its own; the result
   * holds, per request, undefined or the error that rejected it.
   */
  appendBatch(requests: readonly AppendRequest[]): Promise<(Error | undefined)[]>;
  /** Every event of an execution, in id order. */
  loadHistory(executionId: string): Promise<StoredEvent[]>;
  /** One execution, or undefined. */
  getExecution(executionId: string): Promise<ExecutionRecord | undefined>;
  /** Executions newest first, optionally of one status; pass `nextCursor` back to continue. */
  listExecutions(query: ListExecutionsQuery): Promise<ExecutionPage>;
  /** Turns a FAILED/TIMED_OUT/ABORTED execution back to RUNNING under `owner`; throws CONFLICT otherwise. */
  redriveExecution(
    executionId: string,
    owner: string,
    leaseUntil: number,
    event: StoredEvent,
    redriveCount: number,
  ): Promise<void>;
  /** Records a timer unless one with this key exists; returns the fire time that is in force. */
  putTimer(timer: TimerRecord): Promise<number>;
  /** Marks a timer as fired (it stays, so replays know its fire time). */
  markTimerFired(executionId: string, key: string, firedAt: number): Promise<void>;
  /** Every timer of an execution (fired or not). */
  loadTimers(executionId: string): Promise<TimerRecord[]>;
  /** Unfired timers due at or before `before`, earliest first. */
  dueTimers(before: number, limit: number): Promise<TimerRecord[]>;
  /** Takes the lease of a RUNNING execution if it is free, expired, or already ours. */
  acquireLease(executionId: string, owner: string, until: number, now: number): Promise<boolean>;
  /** Extends every lease `owner` holds. */
  renewLeases(owner: string, until: number): Promise<void>;
  /** RUNNING executions whose lease expired before `now` (their worker died), or that `owner` held. */
  claimableExecutions(owner: string, now: number, limit: number): Promise<string[]>;
  /** Registers a callback token for a task attempt. */
  putTaskToken(record: TaskTokenRecord): Promise<void>;
  /** One task token, or undefined. */
  getTaskToken(token: string): Promise<TaskTokenRecord | undefined>;
  /** Records a callback's outcome once; returns false if the token already has one. */
  completeTaskToken(token: string, outcome: CallbackOutcome): Promise<boolean>;
  /** Records a heartbeat time for a callback token. */
  heartbeatTaskToken(token: string, at: number): Promise<void>;
  /** Every callback token registered for an execution (whatever secret it was derived with). */
  taskTokensOf(executionId: string): Promise<string[]>;
  /**
   * Deletes executions that ended (any status but RUNNING) before `cutoff` (epoch ms), with their history,
   * timers and task tokens, in chunks; stops between chunks once `signal` aborts. Returns how many. Their
   * names stay taken: `createExecution` refuses one with CONFLICT.
   */
  deleteEndedBefore(cutoff: number, signal?: AbortSignal): Promise<number>;
}

export interface ExecutionRecord {
  readonly id: string;
  readonly name: string;
  readonly machineName: string;
  readonly definition: MachineDefinition;
  readonly input: Json;
  readonly status: ExecutionStatus;
  readonly startTime: number;
  readonly stopTime?: number | undefined;
  readonly output?: Json | undefined;
  readonly error?: string | undefined;
  readonly cause?: string | undefined;
  readonly correlationId?: string | undefined;
  readonly redriveCount: number;
  readonly owner?: string | undefined;
  readonly leaseUntil?: number | undefined;
}

export interface AppendRequest {
  readonly executionId: string;
  readonly owner: string;
  readonly events: readonly StoredEvent[];
  readonly update?: ExecutionUpdate | undefined;
}

export interface ExecutionUpdate {
  readonly status: ExecutionStatus;
  readonly stopTime?: number | undefined;
  readonly output?: Json | undefined;
  readonly error?: string | undefined;
  readonly cause?: string | undefined;
  readonly redriveCount?: number;
  /** Releases the lease (terminal states). */
  readonly releaseLease?: boolean;
}

export type ExecutionSummary = Omit<ExecutionRecord, 'definition' | 'input' | 'output'>;

export interface ListExecutionsQuery {
  readonly status?: ExecutionStatus | undefined;
  readonly limit: number;
  readonly cursor?: string | undefined;
}

export interface ExecutionPage {
  readonly items: ExecutionSummary[];
  readonly nextCursor: string | undefined;
}

export interface TimerRecord {
  readonly executionId: string;
  readonly key: string;
  readonly fireAt: number;
  readonly firedAt?: number | undefined;
}

export type CallbackOutcome =
  | { readonly ok: true; readonly output: Json }
  | { readonly ok: false; readonly error: string; readonly cause: string };

export interface TaskTokenRecord {
  readonly token: string;
  readonly executionId: string;
  /** The replay key of the task attempt waiting for this token. */
  readonly key: string;
  readonly createdAt: number;
  readonly lastHeartbeat?: number | undefined;
  readonly outcome?: CallbackOutcome | undefined;
}
