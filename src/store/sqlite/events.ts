import type { StoredEvent } from '../../events/envelope.ts';
import type { EventLog, LoggedEvent } from '../../events/log.ts';
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
  private readonly insert;
  private readonly byId;
  private readonly after;
  private readonly byIds;
  private readonly offsetGet;
  private readonly offsetSet;

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
    // The log is read as positions and ids; the events themselves come from loadEvents (and its cache).
    this.after = db.prepare('SELECT seq, id FROM events WHERE seq > ? ORDER BY seq LIMIT ?');
    this.byIds = db.prepare(`SELECT id, envelope, correlation_id, dedup_key, received_at FROM events
      WHERE id IN (SELECT value FROM json_each(?))`);
    this.offsetGet = db.prepare('SELECT seq FROM consumer_offsets WHERE consumer = ?');
    this.offsetSet = prepareCheckpoint(db);
  }

  pendingDepth(): number {
    return this.pending;
  }

  async append(events: readonly StoredEvent[]): Promise<AppendOutcome[]> {
    this.pending += events.length;
    try {
      return await this.committer.submit(() => this.appendWithin(events));
    } finally {
      this.pending -= events.length;
    }
  }

  /**
   * Appends inside a unit of work already running in the group committer, so another stage's change and
   * its events commit together (or not at all). Synchronous, like every committer unit.
   */
  appendWithin(events: readonly StoredEvent[]): AppendOutcome[] {
    return events.map((e): AppendOutcome => {
      const info = this.insert.run(
        e.envelope.id,
        e.dedupKey,
        e.envelope.time,
        e.receivedAt,
        e.correlationId,
        JSON.stringify(e.envelope),
      );
      return info.changes === 1 ? 'stored' : 'duplicate';
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
    if (query.cursor) {
      const [time, seq] = decodeCursor(query.cursor, ['string', 'number']);
      where.push('(time > ? OR (time = ? AND seq > ?))');
      args.push(time, time, seq);
    }
    const sql =
      'SELECT * FROM events' +
      (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
      ' ORDER BY time, seq LIMIT ?';
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
      'DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE time < ? ORDER BY time LIMIT ?)',
    );
    const deleteChunk = () => {
      const deleted = stmt.run(cutoff, DELETE_CHUNK).changes;
      // In the same turn as the DELETE: an event the archive dropped is never delivered from memory.
      if (deleted > 0) this.cache.clear();
      return deleted;
    };
    return deleteInChunks(this.committer, deleteChunk, DELETE_CHUNK, signal);
  }

  async readAfter(afterSeq: number, limit: number): Promise<LoggedEvent[]> {
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
    return (this.offsetGet.get(consumer) as { seq: number } | undefined)?.seq ?? 0;
  }

  async commitOffset(consumer: string, seq: number): Promise<void> {
    await this.committer.submit(() => this.offsetSet.run(consumer, seq));
  }
}

function toStored(row: EventRow): StoredEvent {
  return {
    envelope: JSON.parse(row.envelope) as StoredEvent['envelope'],
    correlationId: row.correlation_id,
    dedupKey: row.dedup_key,
    receivedAt: row.received_at,
  };
}
