import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { BackgroundCheckpointer, type CheckpointResult } from '../../src/store/sqlite/checkpointer.ts';
import { openSqlite, type SqliteDatabase } from '../../src/store/sqlite/database.ts';
import { GroupCommitter } from '../../src/store/sqlite/group-commit.ts';
import { createLogger } from '../../src/telemetry/logger.ts';

const dirs: string[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function fileDb(): { db: SqliteDatabase; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rebound-ckpt-'));
  dirs.push(dir);
  const path = join(dir, 'store.db');
  const db = openSqlite({ path });
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  cleanups.push(() => {
    if (db.open) db.close();
  });
  return { db, path };
}

const ROW = 'x'.repeat(2000);

describe('BackgroundCheckpointer', () => {
  it('keeps the WAL bounded under steady writes without checkpointing on the committing thread', async () => {
    const { db, path } = fileDb();
    const seen: CheckpointResult[] = [];
    const checkpointer = new BackgroundCheckpointer(db, path, {
      logger: createLogger({ level: 'silent' }),
      intervalMs: 5,
      onCheckpoint: (r) => seen.push(r),
    });
    cleanups.push(() => checkpointer.stop());
    // The main connection no longer checkpoints on its own.
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    const committer = new GroupCommitter(db);
    const insert = db.prepare('INSERT INTO t (body) VALUES (?)');
    // ≈ 60 MB through the WAL in 100-row commits, yielding between them as a server does.
    const commits = 300;
    for (let i = 0; i < commits; i++) {
      await committer.submit(() => {
        for (let j = 0; j < 100; j++) insert.run(ROW);
      });
      await new Promise((r) => setImmediate(r));
    }
    const written = commits * 100 * ROW.length;
    expect(seen.some((r) => r.checkpointed > 0)).toBe(true);
    // Without checkpoints the WAL would hold everything written; rewound, it holds a fraction.
    expect(statSync(`${path}-wal`).size).toBeLessThan(written / 2);
    expect((db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n).toBe(commits * 100);
    // Everything committed is in the database file once the worker has caught up and the log rewound.
    await checkpointer.stop();
    committer.flush();
    db.close();
    const reader = openSqlite({ path, synchronous: 'NORMAL' });
    try {
      expect((reader.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n).toBe(commits * 100);
    } finally {
      reader.close();
    }
  });

  it('stop() waits for the worker to close even when nothing else keeps the process alive', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rebound-ckpt-'));
    dirs.push(dir);
    const src = (file: string) =>
      pathToFileURL(join(import.meta.dirname, '../../src/store/sqlite', file)).href;
    const script = join(dir, 'stop.mts');
    writeFileSync(
      script,
      `import { BackgroundCheckpointer } from ${JSON.stringify(src('checkpointer.ts'))};
import { openSqlite } from ${JSON.stringify(src('database.ts'))};
const path = ${JSON.stringify(join(dir, 'store.db'))};
const db = openSqlite({ path });
const logger = { debug() {}, warn() {} };
await new BackgroundCheckpointer(db, path, { logger }).stop();
db.close();
console.log('stopped');`,
    );
    // Without the worker held while it closes, Node ends such a process with code 13 (unsettled await).
    const run = spawnSync(process.execPath, ['--import', 'tsx/esm', script], {
      cwd: join(import.meta.dirname, '../..'), // where tsx resolves
      encoding: 'utf8',
      timeout: 30_000, // a hang fails here instead of holding the test worker
    });
    expect(run.status, run.error?.message ?? run.stderr).toBe(0);
    expect(run.stdout.trim()).toBe('stopped');
  });
});
