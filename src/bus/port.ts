import type { StoredEvent } from '../events/envelope.ts';
import type { Checkpoint } from '../events/log.ts';

/** One pending delivery of an event to one target of one rule. */
export interface Delivery {
  readonly id: number;
  readonly eventId: string;
  /** `<rule>/<target id>`. */
  readonly target: string;
  readonly rule: string;
  /** Deliveries with the same key are handed to the target in order. */
  readonly orderingKey: string;
  readonly attempts: number;
  /** Unix ms before which the delivery must not be attempted (retry backoff). */
  readonly notBefore: number;
  readonly createdAt: number;
  readonly lastError: string | null;
  readonly replay: string | null;
  readonly correlationId: string;
}

export type NewDelivery = Omit<Delivery, 'id' | 'attempts' | 'notBefore' | 'lastError'>;

export interface DeadLetter {
  readonly id: number;
  readonly eventId: string;
  readonly target: string;
  readonly rule: string;
  readonly attempts: number;
  readonly error: string;
  readonly failedAt: string;
  readonly correlationId: string;
  readonly event: StoredEvent | null;
}

export interface DeadLetterQuery {
  readonly target?: string;
  readonly since?: string;
  readonly cursor?: string;
  readonly limit: number;
}

/** What the bus needs from storage: a durable queue of deliveries per target, and a dead-letter queue. */
export interface DeliveryStore {
  /**
   * Adds deliveries and commits the router's checkpoint in the same transaction, and calls `onDurable` once
   * the deliveries are durable, when workers can read them. With a checkpoint it resolves once committed (a
   * crash that loses the commit has the router route the same events again); without one (replays, which
   * are not re-derived) once durable.
   */
  enqueue(deliveries: readonly NewDelivery[], checkpoint?: Checkpoint, onDurable?: () => void): Promise<void>;
  /** Adds deliveries inside a unit of work already running in the store's transaction (synchronous). */
  enqueueWithin(deliveries: readonly NewDelivery[]): void;
  /**
   * Returns up to `limit` pending deliveries of a target in arrival order, due or not, with ids above
   * `afterId` (default 0). Ids grow in arrival order.
   */
  pending(target: string, limit: number, afterId?: number): Promise<Delivery[]>;
  /** Resolves once every delivery enqueued so far is durable (and so can be read by the workers). */
  durable(): Promise<void>;
  /** Returns the event of a delivery. */
  events(ids: readonly string[]): Promise<Map<string, StoredEvent>>;
  /** Removes delivered deliveries. */
  complete(ids: readonly number[]): Promise<void>;
  /** Records a failed attempt and when to try again. */
  reschedule(id: number, attempts: number, notBefore: number, error: string): Promise<void>;
  /** Moves a delivery to the dead-letter queue with its error and attempt count. */
  deadLetter(delivery: Delivery, attempts: number, error: string, at: string): Promise<void>;
  /** Counts pending deliveries per target. */
  depths(): Promise<Map<string, number>>;
  /** Counts dead letters per target. */
  deadLetterDepths(): Promise<Map<string, number>>;
  /** Lists dead letters, oldest first. */
  listDeadLetters(query: DeadLetterQuery): Promise<{ items: DeadLetter[]; nextCursor?: string }>;
  /** Returns one dead letter. */
  getDeadLetter(id: number): Promise<DeadLetter | undefined>;
  /** Moves dead letters back to the delivery queue (attempts reset); returns how many. */
  redrive(ids: readonly number[], now: number): Promise<number>;
  /** Deletes dead letters without delivering them (their events stay in the archive); returns how many. */
  deleteDeadLetters(ids: readonly number[]): Promise<number>;
}
