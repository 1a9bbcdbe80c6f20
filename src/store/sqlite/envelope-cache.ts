import type { StoredEvent } from '../../events/envelope.ts';

const DEFAULT_CAPACITY = 16_384;

/**
 * The events most recently appended or read, already parsed, keyed by event id.
 *
 * Every stored event is read back at least twice soon after it is written: by the router, which follows
 * the log, and by each worker delivering it to a target. Parsing its JSON envelope was the largest single
 * cost on that path, and the writer held the parsed object all along. The router, every target's worker
 * and the ingest callbacks share the entries, so nothing may change a stored event (its types are
 * read-only).
 *
 * Only ever consulted for ids the database has returned or a delivery row names, so an entry left by a
 * transaction that rolled back is never served as if it were stored; it just ages out.
 */
export class EnvelopeCache {
  private readonly entries = new Map<string, StoredEvent>();

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  get(id: string): StoredEvent | undefined {
    return this.entries.get(id);
  }

  /** Remembers the event and returns it. */
  remember(event: StoredEvent): StoredEvent {
    const id = event.envelope.id;
    if (this.entries.has(id)) return event;
    if (this.entries.size >= this.capacity) {
      // A Map iterates in insertion order, so the first key is the oldest entry.
      this.entries.delete(this.entries.keys().next().value!);
    }
    this.entries.set(id, event);
    return event;
  }

  get size(): number {
    return this.entries.size;
  }
}
