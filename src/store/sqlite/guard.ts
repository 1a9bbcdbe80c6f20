import type {
  BreakerItem,
  BudgetItem,
  GuardStore,
  IdempotencyRecord,
  LockAttempt,
  LockLease,
  PauseItem,
} from '../../guard/port.ts';
import type { Migration, SqliteDatabase } from './database.ts';
import type { GroupCommitter } from './group-commit.ts';

/** Tables of the guard rails: one row per idempotency key, lock, budget target, breaker scope and pause. */
export const guardMigrations: Migration[] = [
  {
    id: 'guard/0001_init',
    up: `
      CREATE TABLE guard_idempotency (
        key TEXT PRIMARY KEY,
        action TEXT NOT NULL,
        target_key TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('started', 'completed')),
        owner TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        completed_at INTEGER,
        result_json TEXT,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX guard_idempotency_expires ON guard_idempotency (expires_at);
      CREATE TABLE guard_locks (
        target_key TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        acquired_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE TABLE guard_budgets (
        target_key TEXT PRIMARY KEY,
        uses_json TEXT NOT NULL,
        last_use INTEGER NOT NULL,
        version INTEGER NOT NULL
      );
      CREATE TABLE guard_breakers (
        scope TEXT PRIMARY KEY,
        state TEXT NOT NULL CHECK (state IN ('closed', 'open')),
        outcomes_json TEXT NOT NULL,
        opened_at INTEGER,
        opened_reason TEXT,
        reset_at INTEGER,
        reset_by TEXT,
        version INTEGER NOT NULL
      );
      CREATE TABLE guard_pauses (
        id TEXT PRIMARY KEY,
        match_json TEXT NOT NULL,
        reason TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        created_by TEXT,
        until INTEGER
      );
    `,
  },
];

interface IdempotencyRow {
  key: string;
  action: string;
  target_key: string;
  state: 'started' | 'completed';
  owner: string;
  started_at: number;
  completed_at: number | null;
  result_json: string | null;
  expires_at: number;
}

interface BreakerRow {
  scope: string;
  state: 'closed' | 'open';
  outcomes_json: string;
  opened_at: number | null;
  opened_reason: string | null;
  reset_at: number | null;
  reset_by: string | null;
  version: number;
}

interface PauseRow {
  id: string;
  match_json: string;
  reason: string;
  created_at: number;
  created_by: string | null;
  until: number | null;
}

/**
 * SQLite implementation of the guard port. Conditional writes are single statements (`INSERT … ON CONFLICT`,
 * `UPDATE … WHERE version = ?`), so they stay atomic across processes sharing the file. Writes go through the
 * shared GroupCommitter when one is given (one fsync per event-loop turn), else their own transaction.
 */
export class SqliteGuardStore implements GuardStore {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly committer?: GroupCommitter,
  ) {}

  private write<T>(work: () => T): Promise<T> {
    if (this.committer) return this.committer.submit(work);
    try {
      return Promise.resolve(this.db.transaction(work).immediate());
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  getIdempotency(key: string): Promise<IdempotencyRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM guard_idempotency WHERE key = ?').get(key) as
      IdempotencyRow | undefined;
    return Promise.resolve(row === undefined ? undefined : toIdempotency(row));
  }

  claimIdempotency(r: IdempotencyRecord): Promise<boolean> {
    return this.write(() => {
      const info = this.db
        .prepare(
          `INSERT INTO guard_idempotency (key, action, target_key, state, owner, started_at, expires_at)
           VALUES (?, ?, ?, 'started', ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
        )
        .run(r.key, r.action, r.targetKey, r.owner, r.startedAt, r.expiresAt);
      return info.changes === 1;
    });
  }

  completeIdempotency(key: string, owner: string, result: unknown, completedAt: number): Promise<boolean> {
    const json = JSON.stringify(result ?? null);
    return this.write(() => {
      const info = this.db
        .prepare(
          `UPDATE guard_idempotency SET state = 'completed', result_json = ?, completed_at = ?
           WHERE key = ? AND owner = ? AND state = 'started'`,
        )
        .run(json, completedAt, key, owner);
      return info.changes === 1;
    });
  }

  abandonIdempotency(key: string, owner: string): Promise<void> {
    return this.write(() => {
      this.db
        .prepare(`DELETE FROM guard_idempotency WHERE key = ? AND owner = ? AND state = 'started'`)
        .run(key, owner);
    });
  }

  acquireLock(targetKey: string, owner: string, now: number, ttlMs: number): Promise<LockAttempt> {
    return this.write((): LockAttempt => {
      const info = this.db
        .prepare(
          `INSERT INTO guard_locks (target_key, owner, acquired_at, expires_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (target_key) DO UPDATE SET owner = excluded.owner, acquired_at = excluded.acquired_at,
             expires_at = excluded.expires_at
           WHERE guard_locks.expires_at <= ? OR guard_locks.owner = excluded.owner`,
        )
        .run(targetKey, owner, now, now + ttlMs, now);
      if (info.changes === 1) return { acquired: true };
      const holder = this.db.prepare('SELECT * FROM guard_locks WHERE target_key = ?').get(targetKey) as {
        target_key: string;
        owner: string;
        acquired_at: number;
        expires_at: number;
      };
      return {
        acquired: false,
        holder: {
          targetKey,
          owner: holder.owner,
          acquiredAt: holder.acquired_at,
          expiresAt: holder.expires_at,
        },
      };
    });
  }

  renewLock(targetKey: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    return this.write(() => {
      const info = this.db
        .prepare('UPDATE guard_locks SET expires_at = ? WHERE target_key = ? AND owner = ?')
        .run(now + ttlMs, targetKey, owner);
      return info.changes === 1;
    });
  }

  releaseLock(targetKey: string, owner: string): Promise<void> {
    return this.write(() => {
      this.db.prepare('DELETE FROM guard_locks WHERE target_key = ? AND owner = ?').run(targetKey, owner);
    });
  }

  listLocks(now: number): Promise<LockLease[]> {
    const rows = this.db
      .prepare('SELECT * FROM guard_locks WHERE expires_at > ? ORDER BY target_key')
      .all(now) as { target_key: string; owner: string; acquired_at: number; expires_at: number }[];
    return Promise.resolve(
      rows.map((r) => ({
        targetKey: r.target_key,
        owner: r.owner,
        acquiredAt: r.acquired_at,
        expiresAt: r.expires_at,
      })),
    );
  }

  getBudget(targetKey: string): Promise<BudgetItem> {
    const row = this.db
      .prepare('SELECT uses_json, version FROM guard_budgets WHERE target_key = ?')
      .get(targetKey) as { uses_json: string; version: number } | undefined;
    if (row === undefined) return Promise.resolve({ targetKey, uses: [], version: 0 });
    return Promise.resolve({ targetKey, uses: JSON.parse(row.uses_json) as number[], version: row.version });
  }

  putBudget(targetKey: string, uses: readonly number[], expectedVersion: number): Promise<boolean> {
    const json = JSON.stringify(uses);
    const lastUse = uses.length === 0 ? 0 : Math.max(...uses);
    return this.write(() => {
      const info =
        expectedVersion === 0
          ? this.db
              .prepare(
                `INSERT INTO guard_budgets (target_key, uses_json, last_use, version) VALUES (?, ?, ?, 1)
                 ON CONFLICT (target_key) DO NOTHING`,
              )
              .run(targetKey, json, lastUse)
          : this.db
              .prepare(
                `UPDATE guard_budgets SET uses_json = ?, last_use = ?, version = version + 1
                 WHERE target_key = ? AND version = ?`,
              )
              .run(json, lastUse, targetKey, expectedVersion);
      return info.changes === 1;
    });
  }

  listBudgets(since: number): Promise<BudgetItem[]> {
    const rows = this.db
      .prepare(
        'SELECT target_key, uses_json, version FROM guard_budgets WHERE last_use >= ? ORDER BY target_key',
      )
      .all(since) as { target_key: string; uses_json: string; version: number }[];
    return Promise.resolve(
      rows.map((r) => ({
        targetKey: r.target_key,
        uses: JSON.parse(r.uses_json) as number[],
        version: r.version,
      })),
    );
  }

  getBreaker(scope: string): Promise<BreakerItem> {
    const row = this.db.prepare('SELECT * FROM guard_breakers WHERE scope = ?').get(scope) as
      BreakerRow | undefined;
    return Promise.resolve(
      row === undefined ? { scope, state: 'closed', outcomes: [], version: 0 } : toBreaker(row),
    );
  }

  putBreaker(next: Omit<BreakerItem, 'version'>, expectedVersion: number): Promise<boolean> {
    const values = [
      next.state,
      JSON.stringify(next.outcomes),
      next.openedAt ?? null,
      next.openedReason ?? null,
      next.resetAt ?? null,
      next.resetBy ?? null,
    ];
    return this.write(() => {
      const info =
        expectedVersion === 0
          ? this.db
              .prepare(
                `INSERT INTO guard_breakers (state, outcomes_json, opened_at, opened_reason, reset_at, reset_by,
                   scope, version) VALUES (?, ?, ?, ?, ?, ?, ?, 1) ON CONFLICT (scope) DO NOTHING`,
              )
              .run(...values, next.scope)
          : this.db
              .prepare(
                `UPDATE guard_breakers SET state = ?, outcomes_json = ?, opened_at = ?, opened_reason = ?,
                   reset_at = ?, reset_by = ?, version = version + 1 WHERE scope = ? AND version = ?`,
              )
              .run(...values, next.scope, expectedVersion);
      return info.changes === 1;
    });
  }

  listBreakers(): Promise<BreakerItem[]> {
    const rows = this.db.prepare('SELECT * FROM guard_breakers ORDER BY scope').all() as BreakerRow[];
    return Promise.resolve(rows.map(toBreaker));
  }

  addPause(pause: PauseItem): Promise<void> {
    return this.write(() => {
      this.db
        .prepare(
          'INSERT INTO guard_pauses (id, match_json, reason, created_at, created_by, until) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(
          pause.id,
          JSON.stringify(pause.match),
          pause.reason,
          pause.createdAt,
          pause.createdBy ?? null,
          pause.until ?? null,
        );
    });
  }

  listPauses(now: number): Promise<PauseItem[]> {
    const rows = this.db
      .prepare('SELECT * FROM guard_pauses WHERE until IS NULL OR until > ? ORDER BY created_at, id')
      .all(now) as PauseRow[];
    return Promise.resolve(rows.map(toPause));
  }

  removePauses(ids: readonly string[]): Promise<string[]> {
    return this.write(() => {
      const remove = this.db.prepare('DELETE FROM guard_pauses WHERE id = ?');
      return ids.filter((id) => remove.run(id).changes === 1);
    });
  }

  prune(now: number, budgetSince: number): Promise<number> {
    return this.write(() => {
      let removed = 0;
      removed += this.db.prepare('DELETE FROM guard_idempotency WHERE expires_at <= ?').run(now).changes;
      removed += this.db.prepare('DELETE FROM guard_locks WHERE expires_at <= ?').run(now).changes;
      removed += this.db
        .prepare('DELETE FROM guard_pauses WHERE until IS NOT NULL AND until <= ?')
        .run(now).changes;
      removed += this.db.prepare('DELETE FROM guard_budgets WHERE last_use < ?').run(budgetSince).changes;
      return removed;
    });
  }
}

function toIdempotency(row: IdempotencyRow): IdempotencyRecord {
  return {
    key: row.key,
    action: row.action,
    targetKey: row.target_key,
    state: row.state,
    owner: row.owner,
    startedAt: row.started_at,
    expiresAt: row.expires_at,
    ...(row.completed_at === null ? {} : { completedAt: row.completed_at }),
    ...(row.result_json === null ? {} : { result: JSON.parse(row.result_json) as unknown }),
  };
}

function toBreaker(row: BreakerRow): BreakerItem {
  return {
    scope: row.scope,
    state: row.state,
    outcomes: JSON.parse(row.outcomes_json) as boolean[],
    version: row.version,
    ...(row.opened_at === null ? {} : { openedAt: row.opened_at }),
    ...(row.opened_reason === null ? {} : { openedReason: row.opened_reason }),
    ...(row.reset_at === null ? {} : { resetAt: row.reset_at }),
    ...(row.reset_by === null ? {} : { resetBy: row.reset_by }),
  };
}

function toPause(row: PauseRow): PauseItem {
  return {
    id: row.id,
    match: JSON.parse(row.match_json) as Record<string, string>,
    reason: row.reason,
    createdAt: row.created_at,
    ...(row.created_by === null ? {} : { createdBy: row.created_by }),
    ...(row.until === null ? {} : { until: row.until }),
  };
}
