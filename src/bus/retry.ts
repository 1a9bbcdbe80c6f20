import type { RetryPolicy } from './config.ts';

export type RetryDecision = { retry: true; notBefore: number } | { retry: false; reason: string };

/** What the target said about a failed attempt (see `failureOf` in targets/target.ts). */
export interface Failure {
  readonly retryable: boolean;
  /** The peer's Retry-After: the next attempt waits at least this long. */
  readonly retryAfterMs?: number | undefined;
}

/**
 * EventBridge's rule for a failed attempt: retry with exponential backoff and full jitter while attempts and
 * event age allow, else dead-letter. `attempts` counts attempts made so far, including the failed one. A
 * peer's Retry-After is honoured (EventBridge ignores it; a rate-limited Slack or PagerDuty asks for it).
 */
export function decideRetry(
  policy: RetryPolicy,
  attempts: number,
  firstSeenAt: number,
  now: number,
  failure: Failure,
  random: () => number = Math.random,
): RetryDecision {
  if (!failure.retryable) return { retry: false, reason: 'the target said a retry cannot help' };
  if (attempts > policy.maximumRetryAttempts) {
    return {
      retry: false,
      reason: `gave up after ${attempts} attempts (maximumRetryAttempts ${policy.maximumRetryAttempts})`,
    };
  }
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempts - 1, 30));
  const notBefore = now + Math.max(Math.floor(random() * ceiling), failure.retryAfterMs ?? 0);
  if (notBefore - firstSeenAt > policy.maximumEventAgeSeconds * 1000) {
    return {
      retry: false,
      reason: `event older than maximumEventAgeSeconds ${policy.maximumEventAgeSeconds}`,
    };
  }
  return { retry: true, notBefore };
}
