import type { StoredEvent } from '../events/envelope.ts';

/** What became of one appended event. */
export interface AppendOutcome {
  readonly outcome: 'stored' | 'duplicate' | 'stale';
  /**
   * The stored event's id and correlation id: for a duplicate, those of the event stored before it; for a
   * stale event, those of the stored event that superseded it.
   */
  readonly id: string;
  readonly correlationId: string;
}

/** What ingest needs from storage: durable, deduplicated appends. */
export interface EventWriter {
  /** Durably stores the events (with their outbox entries) and resolves only once committed; an event whose
   * dedupKey is already stored is not stored again and reported as `duplicate`, and one whose `supersededBy`
   * key is stored is not stored and reported as `stale`. */
  append(events: readonly StoredEvent[]): Promise<AppendOutcome[]>;
  /** How many events are waiting for a commit; ingest sheds load above its bound. */
  pendingDepth(): number;
}
