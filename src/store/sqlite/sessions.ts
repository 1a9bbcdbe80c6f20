import type { SessionRevocations } from '../../http/port.ts';
import type { Migration, SqliteDatabase } from './database.ts';
import type { GroupCommitter } from './group-commit.ts';

/** Sessions signed out before their expiry, by the nonce their cookie carries. */
export const sessionMigrations: Migration[] = [
  {
    id: 'sessions/0001_revoked',
    up: `
      CREATE TABLE revoked_sessions (
        nonce TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX revoked_sessions_expiry ON revoked_sessions (expires_at);
    `,
  },
];

export class SqliteSessionRevocations implements SessionRevocations {
  private readonly stmts;

  constructor(
    db: SqliteDatabase,
    private readonly committer: GroupCommitter,
  ) {
    this.stmts = {
      revoke: db.prepare(
        'INSERT INTO revoked_sessions (nonce, expires_at) VALUES (?, ?) ON CONFLICT (nonce) DO NOTHING',
      ),
      find: db.prepare('SELECT 1 FROM revoked_sessions WHERE nonce = ?').pluck(),
      prune: db.prepare('DELETE FROM revoked_sessions WHERE expires_at <= ?'),
    };
  }

  async revoke(nonce: string, expiresAtMs: number): Promise<void> {
    await this.committer.submit(() => this.stmts.revoke.run(nonce, expiresAtMs));
  }

  isRevoked(nonce: string): boolean {
    return this.stmts.find.get(nonce) !== undefined;
  }

  async prune(nowMs: number): Promise<number> {
    return this.committer.submit(() => this.stmts.prune.run(nowMs).changes);
  }
}
