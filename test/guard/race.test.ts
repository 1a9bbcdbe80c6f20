import { describe, expect, it } from 'vitest';
import { GuardRefusedError } from '../../src/guard/errors.ts';
import type { GuardVerdict } from '../../src/guard/verdict.ts';
import { BumpAction, ctx, deferred, guardDbPerTest, harness, TestClock } from './support.ts';

const shop = { namespace: 'shop', name: 'api' };

/** Resolves once `count` verdicts for `key` and `rule` have been emitted. */
function reached(verdicts: GuardVerdict[], key: string, rule: string, count = 1): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      if (verdicts.filter((v) => v.idempotencyKey === key && v.rule === rule).length >= count) resolve();
      else setImmediate(check);
    };
    check();
  });
}

describe('per-target lock under real concurrency', () => {
  const db = guardDbPerTest();

  it('a second execution for the same target waits until the first is done, then acts', async () => {
    const h = harness({ db: db().open() });
    const gate = deferred();
    h.action.gate = gate.promise;
    const first = h.runner.run('test.bump', shop, ctx({ idempotencyKey: 'exec-A/Restart/0' }));
    await h.action.started.promise;
    const second = h.runner.run('test.bump', shop, ctx({ idempotencyKey: 'exec-B/Restart/0' }));
    // B has passed the rules before the lock and is now blocked on it while A is mid-action.
    await reached(h.verdicts, 'exec-B/Restart/0', 'idempotency');
    expect(h.action.calls).toHaveLength(1);
    h.action.gate = undefined;
    gate.resolve();
    const [a, b] = await Promise.all([first, second]);
    expect(a.output).toEqual({ before: 0, after: 1 });
    expect(b.output).toEqual({ before: 1, after: 2 });
    const locks = h.verdicts.filter((v) => v.rule === 'lock').map((v) => v.idempotencyKey);
    expect(locks).toEqual(['exec-A/Restart/0', 'exec-B/Restart/0']);
  });

  it('a second execution is refused with a retryable lock error when the wait bound is zero', async () => {
    const h = harness({
      db: db().open(),
      config: { allowlist: { namespaces: ['shop'] }, lock: { wait: 0 } },
    });
    const gate = deferred();
    h.action.gate = gate.promise;
    const first = h.runner.run('test.bump', shop, ctx());
    await h.action.started.promise;
    const err = await h.runner.run('test.bump', shop, ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GuardRefusedError);
    expect(err).toMatchObject({ rule: 'lock', retryable: true, name: 'Rebound.GuardRefused.Lock' });
    // A different target is not blocked by the held lock.
    h.action.gate = undefined;
    await h.runner.run('test.bump', { namespace: 'shop', name: 'web' }, ctx());
    gate.resolve();
    await first;
    expect(h.action.applied).toEqual(
      new Map([
        ['shop/api', 1],
        ['shop/web', 1],
      ]),
    );
  });

  it('two guard instances on separate connections to one file exclude each other (durable lease)', async () => {
    const clock = new TestClock();
    const action = new BumpAction();
    const one = harness({ db: db().open(), clock, action });
    const two = harness({ db: db().open(), clock, action });
    const gate = deferred();
    action.gate = gate.promise;
    const first = one.runner.run('test.bump', shop, ctx({ idempotencyKey: 'A' }));
    await action.started.promise;
    const second = two.runner.run('test.bump', shop, ctx({ idempotencyKey: 'B' }));
    await reached(two.verdicts, 'B', 'idempotency');
    expect(action.calls).toHaveLength(1);
    action.gate = undefined;
    gate.resolve();
    await Promise.all([first, second]);
    expect(action.calls.map((c) => c.idempotencyKey)).toEqual(['A', 'B']);
    expect(action.applied.get('shop/api')).toBe(2);
  });

  it('a duplicate delivery of the same key waits for the first and replays its result', async () => {
    const h = harness({ db: db().open() });
    const gate = deferred();
    h.action.gate = gate.promise;
    const first = h.runner.run('test.bump', shop, ctx({ idempotencyKey: 'dup' }));
    await h.action.started.promise;
    const duplicate = h.runner.run('test.bump', shop, ctx({ idempotencyKey: 'dup' }));
    await reached(h.verdicts, 'dup', 'idempotency', 2);
    expect(h.verdicts.filter((v) => v.rule === 'idempotency').map((v) => v.reason)).toEqual([
      'key dup has not acted yet',
      expect.stringContaining('key dup is being executed by test/'),
    ]);
    gate.resolve();
    const [a, b] = await Promise.all([first, duplicate]);
    expect(b).toEqual(a);
    expect(h.action.calls).toHaveLength(1);
    expect(h.verdicts.filter((v) => v.outcome === 'replayed')).toHaveLength(1);
  });

  it('a crashed holder blocks only until its lease expires', async () => {
    const h = harness({
      db: db().open(),
      config: { allowlist: { namespaces: ['shop'] }, lock: { wait: 0, ttl: '5m' } },
    });
    const now = h.clock.now().getTime();
    expect(await h.store.acquireLock('prod/shop/Deployment/api', 'crashed-pod/1', now, 5 * 60_000)).toEqual({
      acquired: true,
    });
    const err = (await h.runner.run('test.bump', shop, ctx()).catch((e: unknown) => e)) as GuardRefusedError;
    expect(err).toMatchObject({ rule: 'lock', retryable: true, retryAfterMs: 0 });
    expect(err.reason).toContain('crashed-pod/1');
    h.clock.advance(5 * 60_000);
    await h.runner.run('test.bump', shop, ctx());
    expect(h.action.applied.get('shop/api')).toBe(1);
  });

  it('a waiter gives up at the bound measured on the injected clock', async () => {
    const h = harness({
      db: db().open(),
      config: { allowlist: { namespaces: ['shop'] }, lock: { wait: '10s' } },
    });
    const now = h.clock.now().getTime();
    await h.store.acquireLock('prod/shop/Deployment/api', 'slow-pod/1', now, 60_000);
    const waiting = h.runner.run('test.bump', shop, ctx({ idempotencyKey: 'W' }));
    await reached(h.verdicts, 'W', 'idempotency');
    h.clock.advance(10_000);
    await expect(waiting).rejects.toMatchObject({ rule: 'lock', retryable: true });
    expect(h.action.calls).toHaveLength(0);
  });

  /**
   * Two processes on one file; the holder's action starts and is held at its gate, then the holder stalls past
   * its lease and the other process takes the expired lock.
   */
  async function leaseTakenOver(params: Record<string, unknown>, idempotencyKey: string) {
    const clock = new TestClock();
    const action = new BumpAction();
    const config = { allowlist: { namespaces: ['shop'] }, lock: { ttl: 30 } };
    const holder = harness({ db: db().open(), clock, action, config });
    const other = harness({ db: db().open(), clock, action, config });
    action.gate = deferred().promise;
    const running = holder.runner.run('test.bump', params, ctx({ idempotencyKey }));
    await action.started.promise;
    clock.advance(31);
    expect(
      await other.store.acquireLock('prod/shop/Deployment/api', 'other/1', clock.now().getTime(), 60_000),
    ).toEqual({ acquired: true });
    return { action, holder, running };
  }

  it('a holder whose lease was taken over is stopped and its action refused (fencing)', async () => {
    const { action, holder, running } = await leaseTakenOver(shop, 'slow');
    // The holder's next renewal finds the lock gone and aborts its own action.
    await expect(running).rejects.toMatchObject({ rule: 'lock', retryable: true });
    expect(holder.verdicts.at(-1)).toMatchObject({ rule: 'lock', outcome: 'refused' });
    expect(action.applied.size).toBe(0);
    expect(await holder.store.getIdempotency('slow')).toBeUndefined();
    expect((await holder.runner.automation.breakers.get('prod/shop')).outcomes).toEqual([]);
  });

  it('a holder that loses its lease after it wrote is refused as outcome unknown, which no Retry repeats', async () => {
    const { holder, running } = await leaseTakenOver({ ...shop, writeFirst: true }, 'w/a0');
    // Retryable, a Retry would act again under a new attempt key, beside whatever the first write did.
    const err = (await running.catch((e: unknown) => e)) as {
      rule: string;
      retryable: boolean;
      reason: string;
    };
    expect(err).toMatchObject({ rule: 'idempotency', retryable: false });
    expect(err.reason).toMatch(
      /^lost the lease on prod\/shop\/Deployment\/api: .*, after test\.bump sent a write to it, so whether that write was applied is unknown/,
    );
    // The key stays claimed: resumed with the same key, it is refused too.
    expect(await holder.store.getIdempotency('w/a0')).toMatchObject({ state: 'started' });
  });
});
