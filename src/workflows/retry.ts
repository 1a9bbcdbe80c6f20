import { STATES_ERRORS } from './errors.ts';
import type { Catcher, Retrier } from './types.ts';

/**
 * Retry and Catch matching, with the spec's special names: States.ALL matches everything except
 * States.Runtime and the terminal States.DataLimitExceeded; States.TaskFailed matches everything except
 * timeouts and States.Runtime;
 * States.Timeout also covers States.HeartbeatTimeout.
 */
export function errorMatches(errorEquals: readonly string[], error: string): boolean {
  return errorEquals.some((name) => {
    if (name === error) return true;
    switch (name) {
      case STATES_ERRORS.ALL:
        return error !== STATES_ERRORS.Runtime && error !== STATES_ERRORS.DataLimitExceeded;
      case STATES_ERRORS.TaskFailed:
        return (
          error !== STATES_ERRORS.Timeout &&
          error !== STATES_ERRORS.HeartbeatTimeout &&
          error !== STATES_ERRORS.Runtime
        );
      case STATES_ERRORS.Timeout:
        return error === STATES_ERRORS.HeartbeatTimeout;
      default:
        return false;
    }
  });
}

export type RetryDecision = { retry: false } | { retry: true; retrierIndex: number; delayMs: number };

/**
 * Decides whether a failure is retried: the first retrier whose ErrorEquals matches is the only one
 * considered (a later one never is); it retries while its own count is below MaxAttempts.
 * `counts[i]` is how many times retrier i has already retried; `random` supplies FULL jitter.
 */
export function decideRetry(
  retriers: readonly Retrier[] | undefined,
  error: string,
  counts: readonly number[],
  random: () => number,
): RetryDecision {
  if (!retriers || error === STATES_ERRORS.Runtime) return { retry: false };
  const index = retriers.findIndex((r) => errorMatches(r.ErrorEquals, error));
  if (index < 0) return { retry: false };
  const retrier = retriers[index]!;
  const done = counts[index] ?? 0;
  if (done >= (retrier.MaxAttempts ?? 3)) return { retry: false };
  const interval = (retrier.IntervalSeconds ?? 1) * 1000;
  let delay = interval * Math.pow(retrier.BackoffRate ?? 2, done);
  if (retrier.MaxDelaySeconds !== undefined) delay = Math.min(delay, retrier.MaxDelaySeconds * 1000);
  if (retrier.JitterStrategy === 'FULL') delay = random() * delay;
  return { retry: true, retrierIndex: index, delayMs: Math.round(delay) };
}

/** The first catcher matching the error, if any. */
export function findCatcher(catchers: readonly Catcher[] | undefined, error: string): Catcher | undefined {
  return catchers?.find((c) => errorMatches(c.ErrorEquals, error));
}
