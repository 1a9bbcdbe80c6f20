import type { ApprovalRecord, ApprovalStatus, Decision, Via } from '../../approvals/model.ts';
import type { ApprovalStore, Closing } from '../../approvals/port.ts';
import type { Migration, SqliteDatabase } from './database.ts';
import { deleteInChunks, type GroupCommitter } from './group-commit.ts';

/** One row per approval; the task token is unique, so a re-run of the requesting action finds its row. */
export const approvalMigrations: Migration[] = [
  {
    id: 'approvals/0001_init',
    up: `
      CREATE TABLE approvals (
        id TEXT PRIMARY KEY,
        task_token TEXT NOT NULL UNIQUE,
        execution_id TEXT NOT NULL,
        incident_id TEXT,
        runbook TEXT NOT NULL,
        summary TEXT NOT NULL,
        on_timeout TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'decided', 'expired')),
        decision TEXT CHECK (decision IN ('remediate', 'skip', 'snooze')),
        decided_by TEXT,
        via TEXT,
        snooze_seconds INTEGER,
        reason TEXT,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        decided_at TEXT,
        delivered INTEGER NOT NULL DEFAULT 0,
        notified_at TEXT
      );
      CREATE INDEX approvals_status_expiry ON approvals (status, expires_at);
      CREATE INDEX approvals_created ON approvals (created_at, id);
      CREATE INDEX approvals_undelivered ON approvals (delivered, status);
    `,
  },
];

interface Row {
  id: string;
  task_token: string;
  execution_id: string;
  incident_id: string | null;
  runbook: string;
  summary: string;
  on_timeout: string;
  status: ApprovalStatus;
  decision: Decision | null;
  decided_by: string | null;
  via: Via | null;
  snooze_seconds: number | null;
  reason: string | null;
  created_at: string;
  expires_at: string;
  decided_at: string | null;
  delivered: number;
  notified_at: string | null;
}

function toRecord(r: Row): ApprovalRecord {
  return {
    id: r.id,
    executionId: r.execution_id,
    incidentId: r.incident_id,
    runbook: r.runbook,
    summary: r.summary,
    status: r.status,
    onTimeout: r.on_timeout,
    ...(r.decision ? { decision: r.decision } : {}),
    ...(r.decided_by ? { decidedBy: r.decided_by } : {}),
    ...(r.via ? { via: r.via } : {}),
    ...(r.snooze_seconds === null ? {} : { snoozeSeconds: r.snooze_seconds }),
    ...(r.reason ? { reason: r.reason } : {}),
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    ...(r.decided_at ? { decidedAt: r.decided_at } : {}),
    taskToken: r.task_token,
    delivered: r.delivered === 1,
    ...(r.notified_at ? { notifiedAt: r.notified_at } : {}),
  };
}

/** SQLite implementation of the approvals port; writes share the app's group committer. */
export class SqliteApprovalStore implements ApprovalStore {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly committer: GroupCommitter,
  ) {}

  insert(a: ApprovalRecord): Promise<{ record: ApprovalRecord; created: boolean }> {
    return this.committer.submit(() => {
      const info = this.db
        .prepare(
          `INSERT INTO approvals (id, task_token, execution_id, incident_id, runbook, summary, on_timeout, status,
             created_at, expires_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (task_token) DO NOTHING`,
        )
        .run(
          a.id,
          a.taskToken,
          a.executionId,
          a.incidentId,
          a.runbook,
          a.summary,
          a.onTimeout,
          a.createdAt,
          a.expiresAt,
        );
      const row = this.db.prepare('SELECT * FROM approvals WHERE task_token = ?').get(a.taskToken) as Row;
      return { record: toRecord(row), created: info.changes === 1 };
    });
  }

  findByToken(taskToken: string): Promise<ApprovalRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM approvals WHERE task_token = ?').get(taskToken) as
      Row | undefined;
    return Promise.resolve(row ? toRecord(row) : undefined);
  }

  get(id: string): Promise<ApprovalRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM approvals WHERE id = ?').get(id) as Row | undefined;
    return Promise.resolve(row ? toRecord(row) : undefined);
  }

  list(statuses: readonly ApprovalStatus[], limit: number): Promise<ApprovalRecord[]> {
    const where = statuses.length ? `WHERE status IN (${statuses.map(() => '?').join(', ')})` : '';
    const rows = this.db
      .prepare(`SELECT * FROM approvals ${where} ORDER BY created_at DESC, id DESC LIMIT ?`)
      .all(...statuses, limit) as Row[];
    return Promise.resolve(rows.map(toRecord));
  }

  close(id: string, c: Closing): Promise<boolean> {
    return this.committer.submit(() => {
      const info = this.db
        .prepare(
          `UPDATE approvals SET status = ?, decision = ?, decided_by = ?, via = ?, snooze_seconds = ?, reason = ?,
             decided_at = ?, delivered = ?
           WHERE id = ? AND status = 'pending'`,
        )
        .run(
          c.status,
          c.status === 'decided' ? c.decision : null,
          c.decidedBy,
          c.via,
          c.status === 'decided' ? (c.snoozeSeconds ?? null) : null,
          c.status === 'expired' ? c.reason : null,
          c.decidedAt,
          c.status === 'expired' && c.delivered ? 1 : 0,
          id,
        );
      return info.changes === 1;
    });
  }

  abandon(id: string, reason: string): Promise<void> {
    return this.committer.submit(() => {
      this.db
        .prepare(`UPDATE approvals SET status = 'expired', reason = ?, delivered = 1 WHERE id = ?`)
        .run(reason, id);
    });
  }

  markDelivered(id: string): Promise<void> {
    return this.committer.submit(() => {
      this.db.prepare('UPDATE approvals SET delivered = 1 WHERE id = ?').run(id);
    });
  }

  markNotified(id: string, at: string): Promise<void> {
    return this.committer.submit(() => {
      this.db.prepare('UPDATE approvals SET notified_at = ? WHERE id = ?').run(at, id);
    });
  }

  dueForExpiry(now: string, limit: number): Promise<ApprovalRecord[]> {
    const rows = this.db
      .prepare(
        `SELECT * FROM approvals WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at LIMIT ?`,
      )
      .all(now, limit) as Row[];
    return Promise.resolve(rows.map(toRecord));
  }

  undelivered(limit: number): Promise<ApprovalRecord[]> {
    const rows = this.db
      .prepare(
        `SELECT * FROM approvals WHERE delivered = 0 AND status != 'pending' ORDER BY decided_at LIMIT ?`,
      )
      .all(limit) as Row[];
    return Promise.resolve(rows.map(toRecord));
  }

  deleteClosedBefore(cutoff: string, signal?: AbortSignal): Promise<number> {
    // An abandoned approval was never decided: it closed no later than it would have expired.
    const stmt = this.db.prepare(`DELETE FROM approvals WHERE id IN (SELECT id FROM approvals
      WHERE status != 'pending' AND delivered = 1 AND COALESCE(decided_at, expires_at) < ? LIMIT ?)`);
    return deleteInChunks(this.committer, () => stmt.run(cutoff, DELETE_CHUNK).changes, DELETE_CHUNK, signal);
  }
}

/** Approvals deleted per retention chunk. */
const DELETE_CHUNK = 500;
