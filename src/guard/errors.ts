/**
 * Guard refusals are typed so runbooks can branch on them: the error `name` is an ASL error name
 * (`Rebound.GuardRefused.<Rule>`) that Retry/Catch `ErrorEquals` match, and `retryable` says whether
 * waiting can help (a held lock) or only a human can (budget spent, breaker open).
 */

/** The rails, in the order every mutating action passes them. */
export const GUARD_RULES = [
  'allowlist',
  'shadow',
  'idempotency',
  'lock',
  'budget',
  'breaker',
  'pause',
  'firing',
] as const;

export type GuardRule = (typeof GUARD_RULES)[number];

/** ASL error name raised for each rule's refusal. */
export const GUARD_ERROR_NAMES: Readonly<Record<GuardRule, string>> = {
  allowlist: 'Rebound.GuardRefused.Allowlist',
  shadow: 'Rebound.GuardRefused.Shadow',
  idempotency: 'Rebound.GuardRefused.Idempotency',
  lock: 'Rebound.GuardRefused.Lock',
  budget: 'Rebound.GuardRefused.Budget',
  breaker: 'Rebound.GuardRefused.CircuitOpen',
  pause: 'Rebound.GuardRefused.Paused',
  firing: 'Rebound.GuardRefused.NotFiring',
};

export interface GuardRefusalOptions {
  /** When a retry may succeed (lock holder's lease end, budget window reopening). */
  readonly retryAfterMs?: number;
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * A guard rail refused a mutating action. Nothing was sent to the cluster, unless the reason says so (an
 * action that lost its lock after it wrote: refused as outcome unknown).
 */
export class GuardRefusedError extends Error {
  readonly rule: GuardRule;
  readonly retryable: boolean;
  readonly reason: string;
  readonly retryAfterMs: number | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(rule: GuardRule, retryable: boolean, reason: string, options: GuardRefusalOptions = {}) {
    // `error` + string `cause` is how actions name their failure to the workflow engine (ASL Error/Cause).
    super(reason, { cause: reason });
    this.name = GUARD_ERROR_NAMES[rule];
    this.rule = rule;
    this.retryable = retryable;
    this.reason = reason;
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details;
  }

  /** The ASL error name, e.g. `Rebound.GuardRefused.Budget`. */
  get error(): string {
    return this.name;
  }

  toJSON(): Record<string, unknown> {
    return { error: this.name, rule: this.rule, retryable: this.retryable, reason: this.reason };
  }
}

export function isGuardRefusedError(value: unknown): value is GuardRefusedError {
  return value instanceof GuardRefusedError;
}
