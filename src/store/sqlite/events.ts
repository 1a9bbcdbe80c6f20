import type { StoredEvent } from '../../events/envelope.ts';
import type { EventLog, LoggedEvent } from '../../events/log.ts';
import type { EventPage, EventQuery, EventReader } from '../../events/port.ts';
import type { AppendOutcome, EventWriter } from '../../ingest/port.ts';
import type { Migration, SqliteDatabase } from './database.ts';
import { EnvelopeCache } from './envelope-cache.ts';
import type { GroupCommitter } from './group-commit.ts';
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
  seq: number;
  envelope: string;
  correlation_id: string;
  dedup_key: string;
  received_at: string;
}

/** Events as an append-only log with dedup, time-range reads and per-consumer offsets. */
export class SqliteEventStore implements EventWriter, EventReader, EventLog {
  private pending = 0;
  private readonly insert;
  private readonly byId;
  private readonly after;
  private readonly envelopes;
  private readonly offsetGet;
  private readonly offsetSet;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly committer: GroupCommitter,
    /** Shared with the delivery store, which reads the same events back for its targets. */
    readonly cache = new EnvelopeCache(),
  ) {
    this.insert = db.prepare(
      `INSERT INTO events (id, dedup_key, time, received_at, correlation_id, envelope)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING`,
    );
    this.byId = db.prepare('SELECT * FROM events WHERE id = ?');
    // The log is read without its envelopes, which are fetched only for events not in the cache.
    this.after = db.prepare(`SELECT seq, id, correlation_id, dedup_key, received_at FROM events
      WHERE seq > ? ORDER BY seq LIMIT ?`);
    this.envelopes = db.prepare(
      'SELECT id, envelope FROM events WHERE id IN (SELECT value FROM json_each(?))',
    );
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
      const [time, seq] = decodeCursor(query.cursor);
      where.push('(time > ? OR (time = ? AND seq > ?))');
      args.push(String(time), String(time), Number(seq));
    }
    const sql =
      'SELECT * FROM events' +
      (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
      ' ORDER BY time, seq LIMIT ?';
    const rows = this.db.prepare(sql).all(...args, query.limit + 1) as (EventRow & { time: string })[];
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

  async deleteEventsBefore(cutoff: string): Promise<number> {
    const deleted = await this.committer.submit(
      () => this.db.prepare('DELETE FROM events WHERE time < ?').run(cutoff).changes,
    );
    if (deleted > 0) this.cache.clear();
    return deleted;
  }

  async readAfter(afterSeq: number, limit: number): Promise<LoggedEvent[]> {
    // Events another reader has parsed (a replay, a second consumer) come from the cache.
    const rows = this.after.all(afterSeq, limit) as Omit<EventRow, 'envelope'>[];
    // Looked up once: remembering a miss below may evict an entry of this same batch.
    const cached = rows.map((row) => this.cache.get(row.id));
    const missing = rows.filter((_, i) => cached[i] === undefined).map((row) => row.id);
    const fetched = new Map<string, string>();
    if (missing.length > 0) {
      for (const r of this.envelopes.all(JSON.stringify(missing)) as { id: string; envelope: string }[]) {
        fetched.set(r.id, r.envelope);
      }
    }
    return rows.map((row, i) => {
      const hit = cached[i];
      if (hit) return { seq: row.seq, event: hit };
      const envelope = fetched.get(row.id)!;
      return { seq: row.seq, event: this.cache.remember(toStored({ ...row, envelope }), envelope.length) };
    });
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
