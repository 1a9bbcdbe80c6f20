/**
 * Verification outcomes a runbook branches on. Names are ASL-style so a Task state can
 * `Catch: [{ErrorEquals: ["Rebound.VerificationFailed"], Next: "RollBack"}]`.
 */

/** The check ran to its deadline and the problem is still there: roll back and escalate. */
export class VerificationFailedError extends Error {
  readonly retryable = false;
  readonly details: unknown;

  constructor(message: string, details?: unknown) {
    super(message);
    this.name = 'Rebound.VerificationFailed';
    this.details = details;
  }
}

/**
 * The check could not be made at all (no source configured, every source refused the request, a URL outside
 * the allow-list): the outcome is unknown, which is not the same as "still broken".
 */
export class VerificationUnavailableError extends Error {
  readonly retryable: boolean;
  readonly details: unknown;

  constructor(message: string, options: { retryable: boolean; details?: unknown; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'Rebound.VerificationUnavailable';
    this.retryable = options.retryable;
    this.details = options.details;
  }
}
