import { Dictionary } from '../../dictionary.ts';
import type { StoredEvent } from '../../events/envelope.ts';

/**
 * Few entries on purpose. The workers read an event back within milliseconds of its commit, a few hundred
 * events later at most, so more entries add few hits. But an entry alive through two young-generation
 * collections is promoted to the old generation, whose collection stops the event loop for 5–15 ms: entries
 * must die young. At about 20 KB allocated per event and 16 MB of young generation, a collection comes
 * every 700–800 events, and 256 entries live through one at most.
 */
const DEFAULT_CAPACITY = 256;
/** Envelopes may be up to 256 KB (PutEvents): the cache is bounded by their JSON size too. */
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

interface Entry {
  /** The parsed event, or how to parse it (dropped once parsed). */
  event?: StoredEvent;
  parse?: (() => StoredEvent) | undefined;
  readonly bytes: number;
  readonly id: string;
}

/**
 * The events most recently stored or read, parsed, keyed by event id.
 *
 * Every stored event is read back at least twice soon after it is written: by the router, which follows
 * the log, and by each worker delivering it to a target. Parsing its JSON envelope was the largest single
 * cost of a delivery; the router's parse now serves the workers. Entries are what the database holds (the
 * writer's own objects are not cached: a number like 1e400 is Infinity in memory but null once stored).
 * The router, every target's worker and the ingest callbacks share the entries, so nothing may change a
 * stored event (its types are read-only).
 *
 * Only consulted for ids the log or a delivery row names; cleared when retention deletes events, so an event the
 * archive dropped is not delivered from memory.
 */
export class EnvelopeCache {
  /**
   * By id, in a `Dictionary`, not a `Map`: one entry in and one out per event is the churn under which a
   * long-lived `Map` can keep every entry it ever held alive through young-generation collections (see
   * Dictionary). The order of eviction is kept in the ring below instead of a `Map`'s insertion order.
   */
  private entries = new Dictionary<Entry>();
  /** The entries in insertion order, oldest at `head`: a ring of `capacity` slots. */
  private readonly ring: (Entry | undefined)[];
  private head = 0;
  private bytes = 0;
  private clears = 0;

  constructor(
    private readonly capacity = DEFAULT_CAPACITY,
    private readonly maxBytes = DEFAULT_MAX_BYTES,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`envelope cache capacity must be a positive integer, not ${capacity}`);
    this.ring = new Array<Entry | undefined>(capacity).fill(undefined);
  }

  get(id: string): StoredEvent | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    if (!entry.event) {
      entry.event = entry.parse!();
      entry.parse = undefined;
    }
    return entry.event;
  }

  /** Remembers an event parsed from `bytes` of stored JSON, and returns it. */
  remember(event: StoredEvent, bytes: number): StoredEvent {
    this.add({ id: event.envelope.id, event, bytes });
    return event;
  }

  /**
   * Remembers a just-stored event by its JSON, parsed on the first `get` (by the router reading the log,
   * when it did not route the event in the storing transaction): the read of the envelope from the database
   * is saved, and an event nobody reads again is never parsed.
   */
  rememberUnparsed(id: string, bytes: number, parse: () => StoredEvent): void {
    this.add({ id, parse, bytes });
  }

  private add(entry: Entry): void {
    if (this.entries.has(entry.id)) return;
    if (this.entries.size === this.capacity) this.evictOldest();
    this.ring[(this.head + this.entries.size) % this.capacity] = entry;
    this.entries.set(entry.id, entry);
    this.bytes += entry.bytes;
    while (this.bytes > this.maxBytes && this.entries.size > 1) this.evictOldest();
  }

  private evictOldest(): void {
    const oldest = this.ring[this.head]!;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.entries.delete(oldest.id);
    this.bytes -= oldest.bytes;
  }

  clear(): void {
    this.entries = new Dictionary<Entry>();
    this.ring.fill(undefined);
    this.head = 0;
    this.bytes = 0;
    this.clears += 1;
  }

  /** Changes at every `clear()`: what was read before one may be gone from the database since. */
  get generation(): number {
    return this.clears;
  }

  get size(): number {
    return this.entries.size;
  }
}
