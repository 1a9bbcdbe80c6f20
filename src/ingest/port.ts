import type { StoredEvent } from '../events/envelope.ts';

/** What became of one appended event. */
export interface AppendOutcome {
  readonly outcome: 'stored' | 'duplicate';
  /** The stored event's id and correlation id: for a duplicate, those of the event stored before it. */
  readonly id: string;
  readonly correlationId: string;
}

/** What ingest needs from storage: durable, deduplicated appends. */
export interface EventWriter {
  /** Durably stores the events (with their outbox entries) and resolves only once committed; an event whose
   * dedupKey is already stored is not stored again and reported as `duplicate`. */
  append(events: readonly StoredEvent[]): Promise<AppendOutcome[]>;
  /** How many events are waiting for a commit; ingest sheds load above its bound. */
  pendingDepth(): number;
}
