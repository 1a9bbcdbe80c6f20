import type { StoredEvent } from '../events/envelope.ts';

export type AppendOutcome = 'stored' | 'duplicate';

/** What ingest needs from storage: durable, deduplicated appends. */
export interface EventWriter {
  /** Durably stores the events (with their outbox entries) and resolves only once committed; an event whose
   * dedupKey is already stored is not stored again and reported as `duplicate`. */
  append(events: readonly StoredEvent[]): Promise<AppendOutcome[]>;
  /** How many events are waiting for a commit; ingest sheds load above its bound. */
  pendingDepth(): number;
}
