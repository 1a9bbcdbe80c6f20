import type { Delivery, DeadLetter, DeadLetterQuery, DeliveryStore, NewDelivery } from '../../bus/port.ts';
import type { StoredEvent } from '../../events/envelope.ts';
import type { Checkpoint } from '../../events/log.ts';
import type { Migration, SqliteDatabase } from './database.ts';
import { prepareCheckpoint, type EventLoader } from './events.ts';
import type { GroupCommitter } from './group-commit.ts';
import { decodeCursor, encodeCursor } from './pagination.ts';

export const busMigrations: Migration[] = [
  {
    id: 'bus/0001_init',
    up: `
      CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL,
        target TEXT NOT NULL,
        rule TEXT NOT NULL,
        ordering_key TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        not_before INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        last_error TEXT,
        replay TEXT,
        correlation_id TEXT NOT NULL
      );
      CREATE INDEX deliveries_by_target ON deliveries (target, id);
      CREATE TABLE dead_letters (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL,
        target TEXT NOT NULL,
        rule TEXT NOT NULL,
        ordering_key TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        error TEXT NOT NULL,
        failed_at TEXT NOT NULL,
        replay TEXT,
        correlation_id TEXT NOT NULL
      );
      CREATE INDEX dead_letters_by_target ON dead_letters (target, id);
    `,
  },
];

interface DeliveryRow {
  id: number;
  event_id: string;
  target: string;
  rule: string;
  ordering_key: string;
  attempts: number;
  not_before: number;
  created_at: number;
  last_error: string | null;
  replay: string | null;
  correlation_id: string;
}

interface DeadLetterRow extends DeliveryRow {
  error: string;
  failed_at: string;
}

export class SqliteDeliveryStore implements DeliveryStore {
  private readonly stmts;
  /** Deliveries finished since the last commit, removed together in the next one. */
  private completing: { readonly ids: number[]; readonly done: Promise<void> } | undefined;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly committer: GroupCommitter,
    /** The event store: deliveries mostly name events the router has just read (and it has cached). */
    private readonly eventStore: EventLoader,
  ) {
    this.stmts = {
      insert:
        db.prepare(`INSERT INTO deliveries (event_id, target, rule, ordering_key, created_at, replay, correlation_id)
        VALUES (?, ?, ?, ?, ?, ?, ?)`),
      checkpoint: prepareCheckpoint(db),
      pending: db.prepare(
        'SELECT * FROM deliveries WHERE target = ? AND id > ? AND id <= ? ORDER BY id LIMIT ?',
      ),
      complete: db.prepare('DELETE FROM deliveries WHERE id = ?'),
      completeMany: db.prepare('DELETE FROM deliveries WHERE id IN (SELECT value FROM json_each(?))'),
      reschedule: db.prepare(
        'UPDATE deliveries SET attempts = ?, not_before = ?, last_error = ? WHERE id = ?',
      ),
      toDlq:
        db.prepare(`INSERT INTO dead_letters (event_id, target, rule, ordering_key, attempts, error, failed_at, replay, correlation_id)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      depths: db.prepare('SELECT target, COUNT(*) AS n FROM deliveries GROUP BY target'),
      dlqDepths: db.prepare('SELECT target, COUNT(*) AS n FROM dead_letters GROUP BY target'),
      dlqById: db.prepare('SELECT * FROM dead_letters WHERE id = ?'),
      dlqDelete: db.prepare('DELETE FROM dead_letters WHERE id = ?'),
      redrive:
        db.prepare(`INSERT INTO deliveries (event_id, target, rule, ordering_key, created_at, replay, correlation_id)
        SELECT event_id, target, rule, ordering_key, ?, replay, correlation_id FROM dead_letters WHERE id = ?`),
    };
  }

  async enqueue(
    deliveries: readonly NewDelivery[],
    checkpoint?: Checkpoint,
    onDurable?: () => void,
  ): Promise<void> {
    const work = () => {
      this.enqueueWithin(deliveries);
      if (checkpoint) this.stmts.checkpoint.run(checkpoint.consumer, checkpoint.seq);
      if (onDurable) this.committer.whenDurable(onDurable);
    };
    // The router's deliveries are derived from the durable log up to its checkpoint, so the router may go on
    // at COMMIT: waiting for the sync each time would leave it one commit behind a steady producer for good,
    // and the hand-over in the storing transaction would never take over again. The workers read only
    // deliveries known durable, and are woken (onDurable) once these are.
    await (checkpoint ? this.committer.submitUnsynced(work) : this.committer.submit(work));
  }

  enqueueWithin(deliveries: readonly NewDelivery[]): void {
    for (const d of deliveries) {
      this.stmts.insert.run(
        d.eventId,
        d.target,
        d.rule,
        d.orderingKey,
        d.createdAt,
        d.replay,
        d.correlationId,
      );
    }
  }

  async pending(target: string, limit: number, afterId = 0): Promise<Delivery[]> {
    // Only deliveries known durable: one committed while the sync covering it is in flight could still be
    // lost, with its event, and a target must not have an event a crash takes back.
    const durable = this.committer.durableRowId('deliveries');
    return (this.stmts.pending.all(target, afterId, durable, limit) as DeliveryRow[]).map(toDelivery);
  }

  async durable(): Promise<void> {
    // An empty unit settles after the sync that covers every commit before it.
    await this.committer.submit(() => undefined);
  }

  async events(ids: readonly string[]): Promise<Map<string, StoredEvent>> {
    return this.eventStore.loadEvents(ids);
  }

  async complete(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    // Every lane of every target finishing before the next commit shares one unit and one DELETE: a
    // unit per delivery cost a savepoint and its release each.
    let batch = this.completing;
    if (!batch) {
      const gathered: number[] = [];
      batch = {
        ids: gathered,
        // Not synced for its own sake: a completion a crash loses only sends the delivery again (at least once).
        done: this.committer.submitUnsynced(() => {
          this.completing = undefined; // what finishes from now on goes in the next unit
          if (gathered.length === 1) this.stmts.complete.run(gathered[0]);
          else this.stmts.completeMany.run(JSON.stringify(gathered));
        }),
      };
      this.completing = batch;
      const failed = batch;
      // A unit that failed before its work ran must not take later deliveries down with it.
      failed.done.catch(() => {
        if (this.completing === failed) this.completing = undefined;
      });
    }
    for (const id of ids) batch.ids.push(id);
    await batch.done;
  }

  async reschedule(id: number, attempts: number, notBefore: number, error: string): Promise<void> {
    await this.committer.submit(() => this.stmts.reschedule.run(attempts, notBefore, error, id));
  }

  async deadLetter(d: Delivery, attempts: number, error: string, at: string): Promise<void> {
    await this.committer.submit(() => {
      // Only a delivery still queued: two paths moving the same one must not leave two dead letters.
      if (this.stmts.complete.run(d.id).changes === 0) return;
      this.stmts.toDlq.run(
        d.eventId,
        d.target,
        d.rule,
        d.orderingKey,
        attempts,
        error,
        at,
        d.replay,
        d.correlationId,
      );
    });
  }

  async depths(): Promise<Map<string, number>> {
    return countBy(this.stmts.depths.all() as { target: string; n: number }[]);
  }

  async deadLetterDepths(): Promise<Map<string, number>> {
    return countBy(this.stmts.dlqDepths.all() as { target: string; n: number }[]);
  }

  async listDeadLetters(query: DeadLetterQuery): Promise<{ items: DeadLetter[]; nextCursor?: string }> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (query.target) {
      where.push('target = ?');
      args.push(query.target);
    }
    if (query.since) {
      where.push('failed_at >= ?');
      args.push(query.since);
    }
    if (query.cursor) {
      where.push('id > ?');
      args.push(decodeCursor(query.cursor, ['number'])[0]);
    }
    const sql = `SELECT * FROM dead_letters${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, query.limit + 1) as DeadLetterRow[];
    const page = rows.slice(0, query.limit);
    const events = await this.events(page.map((r) => r.event_id));
    const last = page[page.length - 1];
    return {
      items: page.map((r) => toDeadLetter(r, events.get(r.event_id) ?? null)),
      ...(rows.length > query.limit && last ? { nextCursor: encodeCursor([last.id]) } : {}),
    };
  }

  async getDeadLetter(id: number): Promise<DeadLetter | undefined> {
    const row = this.stmts.dlqById.get(id) as DeadLetterRow | undefined;
    if (!row) return undefined;
    const events = await this.events([row.event_id]);
    return toDeadLetter(row, events.get(row.event_id) ?? null);
  }

  async redrive(ids: readonly number[], now: number): Promise<number> {
    return this.committer.submit(() => {
      let moved = 0;
      for (const id of ids) {
        if (this.stmts.redrive.run(now, id).changes === 1) {
          this.stmts.dlqDelete.run(id);
          moved += 1;
        }
      }
      return moved;
    });
  }

  async deleteDeadLetters(ids: readonly number[]): Promise<number> {
    return this.committer.submit(() => {
      let deleted = 0;
      for (const id of ids) deleted += this.stmts.dlqDelete.run(id).changes;
      return deleted;
    });
  }
}

function countBy(rows: { target: string; n: number }[]): Map<string, number> {
  return new Map(rows.map((r) => [r.target, r.n]));
}

function toDelivery(r: DeliveryRow): Delivery {
  return {
    id: r.id,
    eventId: r.event_id,
    target: r.target,
    rule: r.rule,
    orderingKey: r.ordering_key,
    attempts: r.attempts,
    notBefore: r.not_before,
    createdAt: r.created_at,
    lastError: r.last_error,
    replay: r.replay,
    correlationId: r.correlation_id,
  };
}

function toDeadLetter(r: DeadLetterRow, event: StoredEvent | null): DeadLetter {
  return {
    id: r.id,
    eventId: r.event_id,
    target: r.target,
    rule: r.rule,
    attempts: r.attempts,
    error: r.error,
    failedAt: r.failed_at,
    correlationId: r.correlation_id,
    event,
  };
}
