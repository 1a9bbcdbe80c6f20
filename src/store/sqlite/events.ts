import type { StoredEvent } from '../../events/envelope.ts';
import type { EventLog, InlineConsumer, LoggedEvent } from '../../events/log.ts';
import type { EventPage, EventQuery, EventReader } from '../../events/port.ts';
import type { AppendOutcome, EventWriter } from '../../ingest/port.ts';
import type { Migration, SqliteDatabase } from './database.ts';
import { EnvelopeCache } from './envelope-cache.ts';
import { deleteInChunks, type GroupCommitter } from './group-commit.ts';
import { decodeCursor, encodeCursor } from './pagination.ts';

export const eventMigrations: Migration[] = [
  {
    id: 'events/0001_init',
    up: `
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        dedup_key TEXT NOT NULL UNIQUE,
        time TEXT NOT NULL,
        received_at TEXT NOT NULL,
        correlation_id TEXT NOT NULL,
        envelope TEXT NOT NULL
      );
      CREATE INDEX events_by_time ON events (time, seq);
      CREATE TABLE consumer_offsets (
        consumer TEXT PRIMARY KEY,
        seq INTEGER NOT NULL
      );
    `,
  },
  {
    // Retention counts from when an event was archived: a producer's `Time` may be years old.
    id: 'events/0002_by_received_at',
    up: 'CREATE INDEX events_by_received_at ON events (received_at, seq);',
  },
];

/** Prepares the consumer-offset upsert (never moves an offset backwards), for adapters that checkpoint. */
export function prepareCheckpoint(db: SqliteDatabase) {
  return db.prepare(`INSERT INTO consumer_offsets (consumer, seq) VALUES (?, ?)
    ON CONFLICT (consumer) DO UPDATE SET seq = excluded.seq WHERE excluded.seq > consumer_offsets.seq`);
}

interface EventRow {
  id: string;
  envelope: string;
  correlation_id: string;
  dedup_key: string;
  received_at: string;
}

/** Events per retention DELETE (each its own transaction). */
const DELETE_CHUNK = 5000;

/** Ids per `json_each` lookup. */
const EVENTS_PER_READ = 500;

/** Loads stored events by id; the delivery store reads its deliveries' events through it. */
export interface EventLoader {
  loadEvents(ids: readonly string[]): Map<string, StoredEvent>;
}

/** Events as an append-only log with dedup, time-range reads and per-consumer offsets. */
export class SqliteEventStore implements EventWriter, EventReader, EventLog, EventLoader {
  private pending = 0;
  private inline: InlineConsumer | undefined;
  private readonly insert;
  private readonly byId;
  private readonly byDedupKey;
  private readonly after;
  private readonly byIds;
  private readonly offsetGet;
  private readonly offsetSet;
  /** The log's last sequence number and a consumer's offset, in one statement. */
  private readonly position;
  private readonly handover;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly committer: GroupCommitter,
    private readonly cache = new EnvelopeCache(),
  ) {
    this.insert = db.prepare(
      `INSERT INTO events (id, dedup_key, time, received_at, correlation_id, envelope)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING`,
    );
    this.byId = db.prepare('SELECT * FROM events WHERE id = ?');
    this.byDedupKey = db.prepare('SELECT id, correlation_id FROM events WHERE dedup_key = ?');
    // The log is read as positions and ids; the events themselves come from loadEvents (and its cache).
    this.after = db.prepare('SELECT seq, id FROM events WHERE seq > ? ORDER BY seq LIMIT ?');
    this.byIds = db.prepare(`SELECT id, envelope, correlation_id, dedup_key, received_at FROM events
      WHERE id IN (SELECT value FROM json_each(?))`);
    this.offsetGet = db.prepare('SELECT seq FROM consumer_offsets WHERE consumer = ?');
    this.offsetSet = prepareCheckpoint(db);
    this.handover = {
      begin: db.prepare('SAVEPOINT handover'),
      release: db.prepare('RELEASE handover'),
      rollback: db.prepare('ROLLBACK TO handover'),
    };
    this.position = db.prepare(`SELECT (SELECT max(seq) FROM events) AS last,
      (SELECT seq FROM consumer_offsets WHERE consumer = ?) AS offset`);
  }

  pendingDepth(): number {
    return this.pending;
  }

  async append(events: readonly StoredEvent[]): Promise<AppendOutcome[]> {
    this.pending += events.length;
    try {
      let generation = 0;
      const { outcomes, stored, handedOver } = await this.committer.submit(() => {
        generation = this.cache.generation;
        return this.store(events);
      });
      // Committed: the router (when it reads them from the log) and the workers delivering them read them
      // from memory. Not before the commit, which could still have rolled back; not if retention deleted
      // events since (it may have deleted these).
      if (this.cache.generation === generation) this.remember(stored, handedOver);
      return outcomes;
    } finally {
      this.pending -= events.length;
    }
  }

  /**
   * Appends inside a unit of work already running in the group committer, so another stage's change and
   * its events commit together (or not at all). Synchronous, like every committer unit.
   */
  appendWithin(events: readonly StoredEvent[]): AppendOutcome[] {
    return this.store(events).outcomes;
  }

  follow(consumer: InlineConsumer | undefined): void {
    this.inline = consumer;
  }

  private store(events: readonly StoredEvent[]): {
    outcomes: AppendOutcome[];
    stored: StoredRow[];
    /** The stored events as the inline consumer was handed them, in order; empty if it was not. */
    handedOver: readonly StoredEvent[];
  } {
    const handOver = this.inline && this.takesOver(this.inline);
    const stored: StoredRow[] = [];
    const outcomes = events.map((e): AppendOutcome => {
      if (e.supersededBy !== undefined) {
        const later = this.byDedupKey.get(e.supersededBy) as
          { id: string; correlation_id: string } | undefined;
        if (later) return { outcome: 'stale', id: later.id, correlationId: later.correlation_id };
      }
      const json = JSON.stringify(e.envelope);
      const info = this.insert.run(
        e.envelope.id,
        e.dedupKey,
        e.envelope.time,
        e.receivedAt,
        e.correlationId,
        json,
      );
      if (info.changes !== 1) {
        const first = this.byDedupKey.get(e.dedupKey) as { id: string; correlation_id: string };
        return { outcome: 'duplicate', id: first.id, correlationId: first.correlation_id };
      }
      stored.push({
        seq: Number(info.lastInsertRowid),
        row: {
          id: e.envelope.id,
          envelope: json,
          correlation_id: e.correlationId,
          dedup_key: e.dedupKey,
          received_at: e.receivedAt,
        },
      });
      return { outcome: 'stored', id: e.envelope.id, correlationId: e.correlationId };
    });
    return { outcomes, stored, handedOver: handOver ? this.handOver(handOver, stored) : [] };
  }

  /**
   * The inline consumer, when it accepts the append about to be stored and its offset covers every event
   * stored before it (sequence numbers grow, with gaps: a duplicate's insert uses one up). Otherwise it is
   * still reading the log, or will, and finds the append there. Read in the storing transaction.
   */
  private takesOver(consumer: InlineConsumer): InlineConsumer | undefined {
    if (consumer.accepts?.() === false) return undefined;
    const { last, offset } = this.position.get(consumer.name) as {
      last: number | null;
      offset: number | null;
    };
    return (offset ?? 0) >= (last ?? 0) ? consumer : undefined;
  }

  /**
   * Gives just-stored events to the inline consumer and moves its offset past them, in the storing
   * transaction: a rolled-back hand-over leaves nothing behind. The consumer sees each event as stored
   * (parsed from its JSON, as `loadEvents` returns it).
   */
  private handOver(consumer: InlineConsumer, stored: readonly StoredRow[]): StoredEvent[] {
    if (stored.length === 0) return [];
    const logged = stored.map((row) => ({ seq: row.seq, event: toStored(row.row) }));
    // In a savepoint of its own: a consumer that fails leaves the events to its reading of the log (where
    // it fails and retries as it would have), and the append still commits.
    let kept: (() => void) | void;
    this.handover.begin.run();
    try {
      kept = consumer.handle(logged);
      this.offsetSet.run(consumer.name, stored[stored.length - 1]!.seq);
      this.handover.release.run();
    } catch (err) {
      this.handover.rollback.run();
      this.handover.release.run();
      consumer.failed?.(err);
      return [];
    }
    kept?.();
    return logged.map((l) => l.event);
  }

  /** Caches just-committed events: as the inline consumer parsed them, or to be parsed when first read. */
  private remember(stored: readonly StoredRow[], handedOver: readonly StoredEvent[]): void {
    stored.forEach(({ row }, i) => {
      const parsed = handedOver[i];
      if (parsed) this.cache.remember(parsed, row.envelope.length);
      else this.cache.rememberUnparsed(row.id, row.envelope.length, () => toStored(row));
    });
  }

  async getEvent(id: string): Promise<StoredEvent | undefined> {
    const row = this.byId.get(id) as EventRow | undefined;
    return row && toStored(row);
  }

  async listEvents(query: EventQuery): Promise<EventPage> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (query.from) {
      where.push('time >= ?');
      args.push(query.from);
    }
    if (query.to) {
      where.push('time < ?');
      args.push(query.to);
    }
    const after = query.newestFirst ? '<' : '>';
    if (query.cursor) {
      const [time, seq] = decodeCursor(query.cursor, ['string', 'number']);
      where.push(`(time ${after} ? OR (time = ? AND seq ${after} ?))`);
      args.push(time, time, seq);
    }
    const order = query.newestFirst ? 'time DESC, seq DESC' : 'time, seq';
    const sql =
      'SELECT * FROM events' +
      (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
      ` ORDER BY ${order} LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, query.limit + 1) as (EventRow & {
      time: string;
      seq: number;
    })[];
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toStored),
      ...(rows.length > query.limit && last ? { nextCursor: encodeCursor([last.time, last.seq]) } : {}),
    };
  }

  async countEvents(query: { from?: string; to?: string }): Promise<number> {
    const row = this.db
      .prepare('SELECT COUNT(*) AS n FROM events WHERE time >= ? AND time < ?')
      .get(query.from ?? '', query.to ?? '\uffff') as { n: number };
    return row.n;
  }

  async deleteEventsBefore(cutoff: string, signal?: AbortSignal): Promise<number> {
    const stmt = this.db.prepare(
      `DELETE FROM events WHERE seq IN
        (SELECT seq FROM events WHERE received_at < ? ORDER BY received_at LIMIT ?)`,
    );
    const deleteChunk = () => {
      const deleted = stmt.run(cutoff, DELETE_CHUNK).changes;
      // In the same turn as the DELETE: an event the archive dropped is never delivered from memory.
      if (deleted > 0) this.cache.clear();
      return deleted;
    };
    return deleteInChunks(this.committer, deleteChunk, DELETE_CHUNK, signal);
  }

  async readFrom(consumer: string, limit: number): Promise<LoggedEvent[]> {
    // Synchronous from the offset to the rows: no commit can come between them.
    return this.readAfter(this.offsetOf(consumer), limit);
  }

  async readAfter(afterSeq: number, limit: number): Promise<LoggedEvent[]> {
    // Committed events, durable or not: the router may route an event whose sync is in flight, because its
    // deliveries commit after it and the workers read only durable deliveries (the WAL is replayed in
    // order, so a durable delivery means a durable event). Bounding this read as well kept the router one
    // commit behind a steady producer for good.
    const rows = this.after.all(afterSeq, limit) as { seq: number; id: string }[];
    const events = this.loadEvents(rows.map((row) => row.id));
    return rows.map((row) => ({ seq: row.seq, event: events.get(row.id)! }));
  }

  /**
   * The stored events with these ids (absent ones are left out). Each is parsed once and shared through
   * the cache: the router's read serves the workers that deliver the same events right after.
   */
  loadEvents(ids: readonly string[]): Map<string, StoredEvent> {
    const out = new Map<string, StoredEvent>();
    const missing: string[] = [];
    // Hits are taken first: remembering a miss below may evict an entry of this same call.
    for (const id of new Set(ids)) {
      const hit = this.cache.get(id);
      if (hit) out.set(id, hit);
      else missing.push(id);
    }
    for (let i = 0; i < missing.length; i += EVENTS_PER_READ) {
      const rows = this.byIds.all(JSON.stringify(missing.slice(i, i + EVENTS_PER_READ))) as EventRow[];
      for (const row of rows) out.set(row.id, this.cache.remember(toStored(row), row.envelope.length));
    }
    return out;
  }

  async getOffset(consumer: string): Promise<number> {
    return this.offsetOf(consumer);
  }

  private offsetOf(consumer: string): number {
    return (this.offsetGet.get(consumer) as { seq: number } | undefined)?.seq ?? 0;
  }

  async commitOffset(consumer: string, seq: number): Promise<void> {
    await this.committer.submit(() => this.offsetSet.run(consumer, seq));
  }
}

/** An event as just stored: its position in the log and its row as the database holds it. */
interface StoredRow {
  readonly seq: number;
  readonly row: EventRow;
}

function toStored(row: EventRow): StoredEvent {
  return {
    envelope: JSON.parse(row.envelope) as StoredEvent['envelope'],
    correlationId: row.correlation_id,
    dedupKey: row.dedup_key,
    receivedAt: row.received_at,
  };
}
