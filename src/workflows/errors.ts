/**
 * ASL errors (`States.*` and task-defined names). They are not HTTP concerns, so they are not ReboundErrors:
 * they travel through Retry/Catch and end up in history as `{error, cause}`.
 */

export const STATES_ERRORS = {
  ALL: 'States.ALL',
  DataLimitExceeded: 'States.DataLimitExceeded',
  HeartbeatTimeout: 'States.HeartbeatTimeout',
  Timeout: 'States.Timeout',
  TaskFailed: 'States.TaskFailed',
  Permissions: 'States.Permissions',
  ResultPathMatchFailure: 'States.ResultPathMatchFailure',
  ParameterPathFailure: 'States.ParameterPathFailure',
  BranchFailed: 'States.BranchFailed',
  NoChoiceMatched: 'States.NoChoiceMatched',
  IntrinsicFailure: 'States.IntrinsicFailure',
  ExceedToleratedFailureThreshold: 'States.ExceedToleratedFailureThreshold',
  Runtime: 'States.Runtime',
  QueryEvaluationError: 'States.QueryEvaluationError',
  ItemReaderFailed: 'States.ItemReaderFailed',
  ResultWriterFailed: 'States.ResultWriterFailed',
} as const;

/** An error raised inside an execution; `error` is the name Retry/Catch match on. */
export class StatesError extends Error {
  constructor(
    readonly error: string,
    readonly cause_: string,
  ) {
    super(`${error}: ${cause_}`);
    this.name = 'StatesError';
  }

  /** The `{Error, Cause}` object Catch hands to the next state. */
  toOutput(): { Error: string; Cause: string } {
    return { Error: this.error, Cause: this.cause_ };
  }
}

export const runtimeError = (cause: string) => new StatesError(STATES_ERRORS.Runtime, cause);
export const intrinsicFailure = (cause: string) => new StatesError(STATES_ERRORS.IntrinsicFailure, cause);
export const queryError = (cause: string) => new StatesError(STATES_ERRORS.QueryEvaluationError, cause);

/** Raised when the execution is stopped or timed out: unwinds every branch without running Catch. */
export class ExecutionInterrupted extends Error {
  constructor(readonly reason: 'aborted' | 'timed_out') {
    super(`execution ${reason}`);
    this.name = 'ExecutionInterrupted';
  }
}

/**
 * Converts anything a task handler threw into `{error, cause}`. A thrown object with string `error`
 * (and optional `cause`) fields is taken as is — that is how actions name their errors for Retry/Catch;
 * an Error naming itself so whose `cause` is not a string (a wrapped error) gives its message as the cause.
 * Otherwise the JavaScript error name (e.g. `TypeError`) is the error and the message the cause.
 */
export function toStatesError(err: unknown): StatesError {
  if (err instanceof StatesError) return err;
  if (typeof err === 'object' && err !== null) {
    const e = err as { error?: unknown; cause?: unknown; name?: unknown; message?: unknown; code?: unknown };
    if (typeof e.error === 'string') {
      const cause =
        typeof e.cause === 'string' ? e.cause : err instanceof Error ? err.message : stringifyCause(e.cause);
      return new StatesError(e.error, cause);
    }
    if (err instanceof Error) {
      const name = e.name === 'ReboundError' && typeof e.code === 'string' ? `Rebound.${e.code}` : err.name;
      return new StatesError(name, err.message);
    }
  }
  return new StatesError('Error', String(err));
}

function stringifyCause(cause: unknown): string {
  if (cause === undefined || cause === null) return '';
  if (cause instanceof Error) return cause.message;
  return JSON.stringify(cause);
}

/**
 * The run let go of its execution (engine stopping, lease lost, a store write failed): not an ending.
 * What was decided so far is kept, and the next owner (or the reaper) resumes from it.
 */
export class Detached extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'Detached';
  }
}
