import { closeSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openSqlite, type SqliteDatabase } from '../../src/store/sqlite/database.ts';
import { GroupCommitter } from '../../src/store/sqlite/group-commit.ts';

const dirs: string[] = [];
const dbs: SqliteDatabase[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) if (db.open) db.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function fileDb(): { db: SqliteDatabase; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rebound-gc-'));
  dirs.push(dir);
  const path = join(dir, 'store.db');
  const db = openSqlite({ path });
  db.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
  dbs.push(db);
  return { db, path };
}

function readKeys(path: string): string[] {
  const reader = openSqlite({ path, synchronous: 'NORMAL' });
  try {
    return (reader.prepare('SELECT k FROM t ORDER BY k').all() as { k: string }[]).map((r) => r.k);
  } finally {
    reader.close();
  }
}

describe('GroupCommitter', () => {
  it('commits units of one turn together; a failing unit is rolled back alone', async () => {
    const { db, path } = fileDb();
    const committer = new GroupCommitter(db);
    const insert = db.prepare('INSERT INTO t (k) VALUES (?)');
    const results = await Promise.allSettled([
      committer.submit(() => insert.run('a').changes),
      committer.submit(() => {
        insert.run('b');
        insert.run('a'); // duplicate key: this unit fails, 'b' goes with it
      }),
      committer.submit(() => insert.run('c').changes),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    // One sync at start (what the database held counts as durable from then on), one for the commit.
    expect(committer.stats()).toEqual({ commits: 1, units: 3, syncs: 2 });
    expect(readKeys(path)).toEqual(['a', 'c']);
  });

  it('rejects a lone failing unit without committing anything', async () => {
    const { db, path } = fileDb();
    const committer = new GroupCommitter(db);
    const insert = db.prepare('INSERT INTO t (k) VALUES (?)');
    await committer.submit(() => insert.run('a'));
    await expect(
      committer.submit(() => {
        insert.run('b');
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(db.inTransaction).toBe(false);
    expect(readKeys(path)).toEqual(['a']);
  });

  it('takes over the WAL sync of a synchronous=FULL file database and settles units after it', async () => {
    const { db, path } = fileDb();
    const committer = new GroupCommitter(db);
    expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL: COMMIT no longer fsyncs inline
    const durable: number[] = [];
    committer.observe((_ms, units) => durable.push(units));
    const insert = db.prepare('INSERT INTO t (k) VALUES (?)');
    const first = committer.submit(() => insert.run('a'));
    let settled = false;
    void first.then(() => (settled = true));
    committer.flush(); // synchronous: commits and syncs before returning
    expect(durable).toEqual([1]);
    await first;
    expect(settled).toBe(true);
    // Units committed while a background sync runs wait for the next one.
    await Promise.all(['b', 'c', 'd'].map((k) => committer.submit(() => insert.run(k))));
    expect(readKeys(path)).toEqual(['a', 'b', 'c', 'd']);
    expect(durable.reduce((a, b) => a + b, 0)).toBe(4);
    db.close(); // no descriptor of the WAL is left behind to keep it open
  });

  it('settles submitUnsynced units at COMMIT and the others only after the sync', async () => {
    const { db, path } = fileDb();
    const committer = new GroupCommitter(db);
    const insert = db.prepare('INSERT INTO t (k) VALUES (?)');
    const order: string[] = [];
    committer.observe(() => order.push('synced'));
    await Promise.all([
      committer.submitUnsynced(() => insert.run('v')).then(() => order.push('visible')),
      committer.submit(() => insert.run('d')).then(() => order.push('durable')),
    ]);
    expect(order).toEqual(['visible', 'synced', 'durable']);
    expect(readKeys(path)).toEqual(['d', 'v']);
  });

  it('does not sync a commit nobody waits for: the next sync covers it, and flush() syncs it', async () => {
    const { db, path } = fileDb();
    const committer = new GroupCommitter(db);
    const insert = db.prepare('INSERT INTO t (k) VALUES (?)');
    await Promise.all([
      committer.submitUnsynced(() => insert.run('a')),
      committer.submitUnsynced(() => insert.run('b')),
    ]);
    await committer.submitUnsynced(() => insert.run('c'));
    expect(committer.stats()).toEqual({ commits: 2, units: 3, syncs: 1 }); // the one at start
    await committer.submit(() => insert.run('d'));
    expect(committer.stats()).toEqual({ commits: 3, units: 4, syncs: 2 });
    await committer.submitUnsynced(() => insert.run('e'));
    committer.flush(); // everything committed so far is durable when it returns
    expect(committer.stats().syncs).toBe(3);
    committer.flush(); // nothing new since
    expect(committer.stats().syncs).toBe(3);
    expect(readKeys(path)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it("runs a unit's whenDurable callbacks after its sync, before the units waiting for it settle", async () => {
    const { db } = fileDb();
    const committer = new GroupCommitter(db);
    const insert = db.prepare('INSERT INTO t (k) VALUES (?)');
    const order: string[] = [];
    const durably = (what: string) =>
      committer.whenDurable(() => {
        order.push(what);
        // Whatever the callback starts runs before the answers: it is queued ahead of them.
        queueMicrotask(() => order.push(`${what} started`));
      });
    await Promise.all([
      committer.submitUnsynced(() => insert.run('v')).then(() => order.push('visible')),
      committer
        .submit(() => {
          insert.run('a');
          durably('durable a');
        })
        .then(() => order.push('a')),
      committer.submit(() => insert.run('b')).then(() => order.push('b')),
      committer
        .submit(() => {
          durably('never');
          insert.run('a'); // a duplicate key: the unit fails, and its callback is dropped
        })
        .catch(() => order.push('failed')),
    ]);
    expect(order).toEqual(['visible', 'durable a', 'durable a started', 'a', 'b', 'failed']);
    expect(() => committer.whenDurable(() => undefined)).toThrow(/units of work, while they run/);
  });

  it('settles every unit even when a durable callback throws, and reports the error on the event loop', async () => {
    const { db } = fileDb();
    const committer = new GroupCommitter(db);
    const insert = db.prepare('INSERT INTO t (k) VALUES (?)');
    const reported: (() => void)[] = [];
    const spy = vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((fn) => void reported.push(fn));
    try {
      const results = await Promise.allSettled([
        committer.submit(() => {
          insert.run('a');
          committer.whenDurable(() => {
            throw new Error('a bug in a callback');
          });
        }),
        committer.submit(() => insert.run('b')),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    } finally {
      spy.mockRestore();
    }
    expect(reported).toHaveLength(1);
    expect(reported[0]!).toThrow('a bug in a callback');
  });

  it.runIf(process.platform === 'linux')(
    'after a failed sync, rejects the units that waited for it and retries until the rows are durable',
    async () => {
      const { db, path } = fileDb();
      db.exec('CREATE TABLE q (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT)');
      const committer = new GroupCommitter(db);
      await committer.submit(() => db.prepare("INSERT INTO q (v) VALUES ('first')").run());
      expect(committer.durableRowId('q')).toBe(1);
      // Pull the committer's WAL descriptor (read-only; SQLite's own is read-write) out from under it: its
      // next fdatasync fails (EBADF).
      for (const fd of readdirSync('/proc/self/fd')) {
        let target = '';
        try {
          target = readlinkSync(`/proc/self/fd/${fd}`);
        } catch {
          continue;
        }
        const flags = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').match(/flags:\s*([0-7]+)/)?.[1];
        if (target === `${path}-wal` && flags !== undefined && (parseInt(flags, 8) & 3) === 0)
          closeSync(Number(fd));
      }
      let heard = false;
      const failed = committer.submit(() => {
        db.prepare("INSERT INTO q (v) VALUES ('second')").run();
        committer.whenDurable(() => (heard = true));
      });
      await expect(failed).rejects.toThrow(/EBADF/);
      expect(committer.durableRowId('q')).toBe(1);
      expect(heard).toBe(false);
      // The row stays committed; a retried sync (on a freshly opened WAL) makes it durable.
      await vi.waitFor(() => expect(committer.durableRowId('q')).toBe(2), { timeout: 5000 });
      expect(heard).toBe(true);
    },
  );

  it('syncs a commit nobody waits for when one of its units asked to hear that it is durable', async () => {
    const { db } = fileDb();
    const committer = new GroupCommitter(db);
    const insert = db.prepare('INSERT INTO t (k) VALUES (?)');
    let heard = false;
    await committer.submitUnsynced(() => {
      insert.run('a');
      committer.whenDurable(() => (heard = true));
    });
    // The unit settled at COMMIT; its callback waits for the sync that the commit started (after the one at
    // start).
    expect(committer.stats().syncs).toBe(2);
    await vi.waitFor(() => expect(heard).toBe(true));
  });

  it('leaves the sync to SQLite when asked to, and for in-memory databases', async () => {
    const { db } = fileDb();
    new GroupCommitter(db, 2000, { walSync: 'inline' });
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    const memory = openSqlite({ path: ':memory:' });
    dbs.push(memory);
    memory.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
    const committer = new GroupCommitter(memory);
    await committer.submit(() => memory.prepare('INSERT INTO t (k) VALUES (?)').run('x'));
    expect(memory.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 1 });
  });
});
