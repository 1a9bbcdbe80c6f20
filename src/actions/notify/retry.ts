import { setTimeout as sleep } from 'node:timers/promises';
import { isIntegrationError } from '../../integrations/errors.ts';
import type { Delivery, Notification, Notifier, SendOptions } from './notification.ts';

export interface RetryOptions {
  /** Total tries, the first included. */
  readonly attempts: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Injected in tests so backoff needs no real waiting. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly random?: () => number;
}

/**
 * Retries retryable failures (network, time-outs, 429, 5xx) with full-jitter exponential backoff, waiting at
 * least what the peer's Retry-After asked; permanent failures (400, 404, bad credentials) fail at once. The
 * waits together stay within `maxDelayMs` per retry left: a Retry-After beyond that ends the retries at once
 * (trying before it would only earn another 429), one within it is waited out in full.
 * For runbook actions only: the bus dispatcher has its own retry policy and dead-letter queue.
 */
export function withRetries(notifier: Notifier, options: RetryOptions): Notifier {
  const base = options.baseDelayMs ?? 500;
  const max = options.maxDelayMs ?? 30_000;
  const wait = options.sleep ?? ((ms: number, signal?: AbortSignal) => sleep(ms, undefined, { signal }));
  const random = options.random ?? Math.random;
  return {
    async send(notification: Notification, sendOptions: SendOptions = {}): Promise<Delivery> {
      for (let attempt = 1; ; attempt++) {
        try {
          return await notifier.send(notification, sendOptions);
        } catch (err) {
          if (attempt >= options.attempts || !isIntegrationError(err) || !err.retryable) throw err;
          const asked = err.retryAfterMs ?? 0;
          if (asked > max * (options.attempts - attempt)) throw err;
          const backoff = Math.min(max, base * 2 ** (attempt - 1)) * random();
          await wait(Math.max(backoff, asked), sendOptions.signal);
        }
      }
    },
  };
}
