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

/** The durable event log read by consumers that each keep their own committed offset. */
export interface EventLog {
  /** Returns up to `limit` events stored after position `afterSeq`, in order. */
  readAfter(afterSeq: number, limit: number): Promise<LoggedEvent[]>;
  /** Returns the consumer's committed offset (0 when it never committed). */
  getOffset(consumer: string): Promise<number>;
  /** Durably records that the consumer has handled every event up to and including `seq`. */
  commitOffset(consumer: string, seq: number): Promise<void>;
}
