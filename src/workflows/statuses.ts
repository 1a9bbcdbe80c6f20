/** Execution statuses, named as Step Functions names them, with the predicates the engine branches on. */

export const EXECUTION_STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export function isExecutionStatus(value: unknown): value is ExecutionStatus {
  return typeof value === 'string' && (EXECUTION_STATUSES as readonly string[]).includes(value);
}

/** A terminal execution never changes again, except a FAILED/TIMED_OUT/ABORTED one by redrive. */
export function isTerminal(status: ExecutionStatus): boolean {
  switch (status) {
    case 'RUNNING':
      return false;
    case 'SUCCEEDED':
    case 'FAILED':
    case 'TIMED_OUT':
    case 'ABORTED':
      return true;
  }
}

/** Only executions that did not succeed can be redriven (Step Functions' rule). */
export function isRedrivable(status: ExecutionStatus): boolean {
  switch (status) {
    case 'FAILED':
    case 'TIMED_OUT':
    case 'ABORTED':
      return true;
    case 'RUNNING':
    case 'SUCCEEDED':
      return false;
  }
}

/** Running executions hold a lease and may be resumed by the reaper when their owner dies. */
export function isRunning(status: ExecutionStatus): boolean {
  return status === 'RUNNING';
}
