import { afterEach, describe, expect, it } from 'vitest';
import { TargetBudgets } from '../../src/guard/budget.ts';
import { TargetLocks } from '../../src/guard/lock.ts';
import { guardConfigSchema } from '../../src/guard/config.ts';
import { GuardRefusedError } from '../../src/guard/errors.ts';
import { GroupCommitter } from '../../src/store/sqlite/group-commit.ts';
import { guardMigrations, SqliteGuardStore } from '../../src/store/sqlite/guard.ts';
import { runMigrations } from '../../src/store/sqlite/database.ts';
import { GuardedRunner } from '../../src/guard/runner.ts';
import { failing } from '../support/failing.ts';
import {
  BumpAction,
  ctx,
  GuardDb,
  guardDbPerTest,
  harness,
  Incidents,
  plainRunner,
  TestClock,
} from './support.ts';

const shop = { namespace: 'shop', name: 'api' };

describe('guard state survives reopening the SQLite file', () => {
  const db = guardDbPerTest();

  it('keeps idempotency records, budgets, breakers and pauses across a restart', async () => {
    const clock = new TestClock();
    const first = db().open();
    const before = harness({ db: first, clock });
    const done = await before.runner.run('test.bump', shop, ctx({ idempotencyKey: 'exec-1/Scale/0' }));
    await before.runner.run('test.bump', shop, ctx());
    await before.runner.run('test.bump', shop, ctx());
    for (let i = 0; i < 5; i += 1) await before.runner.recordOutcome('prod/team-a', false);
    await before.runner.automation.pause({ match: { namespace: 'team-b' }, reason: 'migration' });
    first.close();

    const after = harness({ db: db().open(), clock });
    expect(runMigrations(db().open(), guardMigrations)).toEqual([]);
    const replay = await after.runner.run('test.bump', shop, ctx({ idempotencyKey: 'exec-1/Scale/0' }));
    expect(replay).toEqual(done);
    expect(after.action.calls).toHaveLength(0);
    const budget = await after.runner.run('test.bump', shop, ctx()).catch((e: unknown) => e);
    expect(budget).toMatchObject({ rule: 'budget' });
    const breaker = await after.runner
      .run('test.bump', { namespace: 'team-a', name: 'x' }, ctx())
      .catch((e: unknown) => e);
    expect(breaker).toMatchObject({ rule: 'breaker' });
    const paused = await after.runner
      .run('test.bump', { namespace: 'team-b', name: 'x' }, ctx())
      .catch((e: unknown) => e);
    expect(paused).toBeInstanceOf(GuardRefusedError);
    expect(paused).toMatchObject({ rule: 'pause' });
  });
});

describe('SqliteGuardStore conditional writes', () => {
  const db = guardDbPerTest();

  for (const mode of ['own transactions', 'group commit'] as const) {
    it(`idempotency claims, leases and versions are exclusive (${mode})`, async () => {
      const sqlite = db().open();
      const committer = mode === 'group commit' ? new GroupCommitter(sqlite) : undefined;
      const store = new SqliteGuardStore(sqlite, committer);
      const record = {
        key: 'k',
        action: 'a',
        targetKey: 't',
        state: 'started' as const,
        owner: 'o1',
        startedAt: 1,
        expiresAt: 100,
      };
      const claims = await Promise.all([
        store.claimIdempotency(record),
        store.claimIdempotency({ ...record, owner: 'o2' }),
      ]);
      expect(claims).toEqual([true, false]);
      expect(await store.completeIdempotency('k', 'o2', { x: 1 }, 5)).toBe(false);
      expect(await store.completeIdempotency('k', 'o1', { x: 1 }, 5)).toBe(true);
      expect(await store.getIdempotency('k')).toMatchObject({
        state: 'completed',
        result: { x: 1 },
        completedAt: 5,
      });

      const locks = await Promise.all([
        store.acquireLock('t', 'a', 0, 10),
        store.acquireLock('t', 'b', 0, 10),
      ]);
      expect(locks[0]).toEqual({ acquired: true });
      expect(locks[1]).toMatchObject({ acquired: false, holder: { owner: 'a', expiresAt: 10 } });
      expect(await store.renewLock('t', 'b', 5, 10)).toBe(false);
      expect(await store.renewLock('t', 'a', 5, 10)).toBe(true);
      expect(await store.acquireLock('t', 'b', 14, 10)).toMatchObject({ acquired: false });
      expect(await store.acquireLock('t', 'b', 15, 10)).toEqual({ acquired: true });
      await store.releaseLock('t', 'a');
      expect(await store.listLocks(16)).toEqual([
        { targetKey: 't', owner: 'b', acquiredAt: 15, expiresAt: 25 },
      ]);

      const puts = await Promise.all([store.putBudget('t', [1], 0), store.putBudget('t', [2], 0)]);
      expect(puts).toEqual([true, false]);
      expect(await store.putBudget('t', [1, 3], 1)).toBe(true);
      expect(await store.putBudget('t', [1, 4], 1)).toBe(false);
      expect(await store.getBudget('t')).toEqual({ targetKey: 't', uses: [1, 3], version: 2 });

      // The idempotency record and the lock have expired; the budget's last use (3) is before 4.
      expect(await store.prune(101, 4)).toBe(3);
    });
  }

  it('budget consumption under concurrent callers never exceeds the limit', async () => {
    const config = guardConfigSchema.parse({ allowlist: { namespaces: ['*'] } });
    const stores = [new SqliteGuardStore(db().open()), new SqliteGuardStore(db().open())];
    const budgets = stores.map((s) => new TargetBudgets(s, config.budget));
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => budgets[i % 2]!.consume('prod/shop/Deployment/api', 1000 + i)),
    );
    expect(results.filter((r) => r.allowed)).toHaveLength(3);
  });
});

describe('store failures after the action acted', () => {
  const db = new GuardDb();
  afterEach(() => db.close());

  it('return the result, report the failure, and never let the key act twice', async () => {
    class FailingComplete extends SqliteGuardStore {
      override completeIdempotency(): Promise<boolean> {
        return Promise.reject(new Error('disk full'));
      }
    }
    const errors: string[] = [];
    const config = guardConfigSchema.parse({ allowlist: { namespaces: ['shop'] } });
    const action = new BumpAction();
    const runner = new GuardedRunner({
      inner: plainRunner([action.definition]),
      actions: [action.definition],
      store: new FailingComplete(db.open()),
      config,
      incidents: new Incidents(),
      now: new TestClock().now,
      onStoreError: (err, what) => errors.push(`${what}: ${(err as Error).message}`),
    });
    const result = await runner.run('test.bump', shop, ctx({ idempotencyKey: 'k1' }));
    expect(result.output).toEqual({ before: 0, after: 1 });
    expect(errors).toEqual(['recording the result of k1: disk full']);
    await expect(runner.run('test.bump', shop, ctx({ idempotencyKey: 'k1' }))).rejects.toMatchObject({
      rule: 'idempotency',
      retryable: false,
    });
    expect(action.calls).toHaveLength(1);
  });
});

describe('a lock holder that cannot reach the store', () => {
  const db = guardDbPerTest();

  it('gives the lock up before its lease can have expired, instead of acting on beside the next holder', async () => {
    const store = new SqliteGuardStore(db().open());
    let reachable = true;
    const flaky = failing(store, 'renewLock', () => (reachable ? undefined : new Error('SQLITE_IOERR')));
    const clock = new TestClock();
    const policy = guardConfigSchema.parse({ lock: { ttl: 300, wait: 0 } }).lock;
    const locks = new TargetLocks(flaky, policy, clock.now);
    const held = await locks.acquire('t', 'a', new AbortController().signal);
    reachable = false;
    clock.advance(100); // one failed renewal, well inside the lease: keep going
    await new Promise((r) => setTimeout(r, 150));
    expect(held.signal.aborted).toBe(false);
    clock.advance(150); // 250 ms since the last confirmed renewal of a 300 ms lease
    await new Promise((r) => setTimeout(r, 150));
    expect(held.signal.aborted).toBe(true);
    expect(String((held.signal.reason as Error).message)).toMatch(/lost the lease on t: renewing it failed/);
    await held.release();
  });
});
