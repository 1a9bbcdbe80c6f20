import type { StoredEvent } from '../../events/envelope.ts';
import type { Delivery } from '../port.ts';
import type { Failure } from '../retry.ts';
import type { TargetInput } from '../transform/index.ts';

/** One delivery as a target sees it: the event (with `replay-name` on replays) and its transformed input. */
export interface DeliveryItem {
  readonly delivery: Delivery;
  readonly event: StoredEvent;
  readonly input: TargetInput;
}

/**
 * A place events go. Targets must be idempotent on the event id: delivery is at-least-once, and a crash
 * between a target's effect and the delivery's removal re-delivers.
 */
export interface Target {
  /** Delivers one event; throws to fail (see DeliveryError for saying whether a retry can help). */
  deliver?(item: DeliveryItem, signal: AbortSignal): Promise<void>;
  /** Delivers a batch in order, all or nothing; targets that can amortise work implement this instead. */
  deliverBatch?(items: readonly DeliveryItem[], signal: AbortSignal): Promise<void>;
  /** Releases what the target holds (connections) once deliveries already started have finished. */
  close?(): Promise<void>;
}

/** A delivery failure that says whether retrying can help. Other thrown errors are treated as retryable. */
export class DeliveryError extends Error {
  /** How long the peer asked to be left alone (its Retry-After), when it said. */
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown; retryAfterMs?: number | undefined },
  ) {
    super(message, options);
    this.name = 'DeliveryError';
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/**
 * Whether a failure may succeed on a later attempt, and not before when: typed errors say so (`retryable`,
 * `retryAfterMs`); anything else is assumed transient.
 */
export function failureOf(err: unknown): Failure {
  if (!err || typeof err !== 'object') return { retryable: true };
  const retryable = 'retryable' in err && typeof err.retryable === 'boolean' ? err.retryable : true;
  const after = 'retryAfterMs' in err && typeof err.retryAfterMs === 'number' ? err.retryAfterMs : undefined;
  return after === undefined ? { retryable } : { retryable, retryAfterMs: after };
}
