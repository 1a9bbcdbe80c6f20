import type { StoredEvent } from './envelope.ts';

export interface LoggedEvent {
  /** Position in the durable event log; increases with every stored event. */
  readonly seq: number;
  readonly event: StoredEvent;
}

/** A log consumer's position, committed in the same transaction as the changes it produced. */
export interface Checkpoint {
  readonly consumer: string;
  readonly seq: number;
}

/**
 * A consumer that handles events in the transaction that stores them, while it has handled everything stored
 * before: its effects and its offset then commit with the events, and it never has to read them back.
 */
export interface InlineConsumer {
  readonly name: string;
  /**
   * Synchronous, inside the storing transaction; what it writes commits (or rolls back) with the events.
   * May return what to do once the hand-over is kept (its savepoint released, the offset moved with it).
   */
  readonly handle: (events: readonly LoggedEvent[]) => (() => void) | void;
  /** False leaves this append to the consumer's own reading of the log, later (default true). */
  readonly accepts?: () => boolean;
  /** `handle` threw: its writes were rolled back, the events stay in the log for the consumer to read. */
  readonly failed?: (err: unknown) => void;
}

/** The durable event log read by consumers that each keep their own committed offset. */
export interface EventLog {
  /**
   * Hands each append to `consumer` inside its transaction while the consumer's offset covers every event
   * stored before it; otherwise the consumer reads the log (`readAfter`) until it has caught up. At most
   * one inline consumer; `undefined` stops the hand-over.
   */
  follow(consumer: InlineConsumer | undefined): void;
  /** Returns up to `limit` events stored after position `afterSeq`, in order. */
  readAfter(afterSeq: number, limit: number): Promise<LoggedEvent[]>;
  /**
   * Returns up to `limit` events after the consumer's committed offset, read with the offset in one step:
   * nothing can move the offset in between (an inline hand-over would, and its events would be read twice).
   */
  readFrom(consumer: string, limit: number): Promise<LoggedEvent[]>;
  /** Returns the consumer's committed offset (0 when it never committed). */
  getOffset(consumer: string): Promise<number>;
  /** Durably records that the consumer has handled every event up to and including `seq`. */
  commitOffset(consumer: string, seq: number): Promise<void>;
}
