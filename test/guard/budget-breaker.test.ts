import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GuardRefusedError } from '../../src/guard/errors.ts';
import { ctx, GuardDb, harness, type Harness } from './support.ts';

const shop = { namespace: 'shop', name: 'api' };
const MIN = 60_000;

async function refusal(promise: Promise<unknown>): Promise<GuardRefusedError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GuardRefusedError);
  return err as GuardRefusedError;
}

describe('per-target budget', () => {
  let db: GuardDb;
  let h: Harness;
  beforeEach(() => {
    db = new GuardDb();
    h = harness({ db: db.open() });
  });
  afterEach(() => db.close());

  it('allows 3 actions per target per sliding hour by default, then refuses without retry', async () => {
    for (let i = 0; i < 3; i += 1) {
      await h.runner.run('test.bump', shop, ctx());
      h.clock.advance(10 * MIN);
    }
    const err = await refusal(h.runner.run('test.bump', shop, ctx()));
    expect(err).toMatchObject({ rule: 'budget', retryable: false, name: 'Rebound.GuardRefused.Budget' });
    expect(err.reason).toContain('3 of 3 actions on prod/shop/Deployment/api in the last 60 min');
    expect(err.reason).toContain('Next slot at 2026-11-25T13:00:00.000Z');
    // Another target has its own budget.
    await h.runner.run('test.bump', { namespace: 'shop', name: 'web' }, ctx());
    // The refusal spent nothing: one hour after the first action exactly one more slot opens.
    h.clock.advance(30 * MIN);
    await h.runner.run('test.bump', shop, ctx());
    await refusal(h.runner.run('test.bump', shop, ctx()));
    expect(h.action.applied.get('shop/api')).toBe(4);
  });

  it('gives back the budget of an action that changed nothing: failed before writing, or found nothing to do', async () => {
    const used = async () => (await h.runner.automation.status()).budgets.map((b) => b.used);
    await expect(h.runner.run('test.bump', { ...shop, fail: true }, ctx())).rejects.toThrow('failed');
    await h.runner.run('test.bump', { ...shop, noop: true }, ctx());
    expect(await used()).toEqual([]);
    // A write that may have landed before the failure counts, as does an action that acted.
    await expect(
      h.runner.run('test.bump', { ...shop, fail: true, failAfterWrite: true }, ctx()),
    ).rejects.toThrow('failed');
    await h.runner.run('test.bump', shop, ctx());
    expect(await used()).toEqual([2]);
  });

  it('shows usage in status and metrics', async () => {
    await h.runner.run('test.bump', shop, ctx());
    await h.runner.run('test.bump', shop, ctx());
    const status = await h.runner.automation.status();
    expect(status.budgets).toEqual([
      { target: 'prod/shop/Deployment/api', used: 2, limit: 3, nextSlotAt: '2026-11-25T13:00:00.000Z' },
    ]);
    expect(await h.registry.metrics()).toContain(
      'rebound_guard_budget_used{target="prod/shop/Deployment/api"} 2',
    );
  });
});

describe('circuit breaker', () => {
  let db: GuardDb;
  let h: Harness;
  beforeEach(() => {
    db = new GuardDb();
    h = harness({
      db: db.open(),
      config: { allowlist: { namespaces: ['shop', 'team-a'] }, budget: { maxActions: 100 } },
    });
  });
  afterEach(() => db.close());

  it('counts one failed remediation once: its failed attempts and the escalation after them', async () => {
    const outcomes = async () => (await h.runner.automation.breakers.get('prod/shop')).outcomes.length;
    const attempt = (executionId?: string) =>
      h.runner.run('test.bump', { ...shop, fail: true }, ctx(executionId ? { executionId } : {}));
    await expect(attempt('exec-A')).rejects.toThrow('failed');
    await expect(attempt('exec-A')).rejects.toThrow('failed'); // its retry
    expect(await outcomes()).toBe(1);
    const view = await h.runner.recordOutcome('prod/shop', false, 'exec-A'); // the escalation
    expect(view.outcomes).toBe(1);
    await h.runner.recordOutcome('prod/shop', true, 'exec-A');
    expect(await outcomes()).toBe(2); // a success is always an outcome
    // Another execution, and failures outside any execution, count on their own.
    await h.runner.recordOutcome('prod/shop', false, 'exec-B');
    await expect(attempt()).rejects.toThrow('failed');
    await expect(attempt()).rejects.toThrow('failed');
    expect(await outcomes()).toBe(5);
  });

  it('opens below 80% over the last 10, refuses, escalates, and closes only on resume', async () => {
    for (let i = 0; i < 8; i += 1) await h.runner.recordOutcome('prod/shop', true);
    // Action failures count as failed remediations too.
    await expect(h.runner.run('test.bump', { ...shop, fail: true }, ctx())).rejects.toThrow('failed');
    expect((await h.runner.automation.breakers.get('prod/shop')).state).toBe('closed');
    await h.runner.recordOutcome(
      { cluster: 'prod', namespace: 'shop', kind: 'Deployment', name: 'api' },
      false,
    );
    // 8 of 10 = 80%: not below the threshold yet.
    expect((await h.runner.automation.breakers.get('prod/shop')).state).toBe('closed');
    await h.runner.recordOutcome('prod/shop', false);
    const open = await h.runner.automation.breakers.get('prod/shop');
    expect(open).toMatchObject({ state: 'open' });
    expect(open.openedReason).toBe('success rate 70% (7 of 10) over the last 10 remediations fell below 80%');

    const err = await refusal(h.runner.run('test.bump', shop, ctx()));
    expect(err).toMatchObject({
      rule: 'breaker',
      retryable: false,
      name: 'Rebound.GuardRefused.CircuitOpen',
    });
    expect(err.reason).toContain('rebound automation resume --scope prod/shop');
    // Other scopes keep acting; successes arriving later do not close it.
    await h.runner.run('test.bump', { namespace: 'team-a', name: 'api' }, ctx());
    for (let i = 0; i < 10; i += 1) await h.runner.recordOutcome('prod/shop', true);
    await refusal(h.runner.run('test.bump', shop, ctx()));

    const metrics = await h.registry.metrics();
    expect(metrics).toContain('rebound_guard_breaker_open{scope="prod/shop"} 1');
    expect(metrics).toContain('rebound_guard_refusals_total{rule="breaker"} 2');
    const status = await h.runner.automation.status();
    expect(status.breakers.find((b) => b.scope === 'prod/shop')).toMatchObject({
      state: 'open',
      outcomes: 10,
    });

    const resumed = await h.runner.automation.resume({ scope: 'prod/shop', by: 'alice' });
    expect(resumed.resetBreakers).toEqual(['prod/shop']);
    const closed = await h.runner.automation.breakers.get('prod/shop');
    expect(closed).toMatchObject({ state: 'closed', outcomes: [], resetBy: 'alice' });
    await h.runner.run('test.bump', shop, ctx());
    expect(await h.registry.metrics()).toContain('rebound_guard_breaker_open{scope="prod/shop"} 0');
  });

  it('needs minOutcomes before judging, so one early failure does not open it', async () => {
    await h.runner.recordOutcome('prod/shop', false);
    await h.runner.recordOutcome('prod/shop', false);
    await h.runner.recordOutcome('prod/shop', true);
    await h.runner.recordOutcome('prod/shop', true);
    expect((await h.runner.automation.breakers.get('prod/shop')).state).toBe('closed');
    await h.runner.recordOutcome('prod/shop', true);
    expect((await h.runner.automation.breakers.get('prod/shop')).state).toBe('open');
  });

  it('resume without a scope resets every open breaker and lifts every pause', async () => {
    for (const scope of ['prod/shop', 'prod/team-a']) {
      for (let i = 0; i < 5; i += 1) await h.runner.recordOutcome(scope, false);
    }
    await h.runner.automation.pause({ reason: 'everything' });
    const result = await h.runner.automation.resume();
    expect(result.resetBreakers).toEqual(['prod/shop', 'prod/team-a']);
    expect(result.removedPauses).toHaveLength(1);
    await h.runner.run('test.bump', shop, ctx());
  });

  it('cluster scope: one breaker for the whole cluster', async () => {
    const c = harness({
      db: db.open(),
      config: { allowlist: { namespaces: ['*'] }, breaker: { scope: 'cluster' } },
    });
    for (let i = 0; i < 5; i += 1) {
      await expect(
        c.runner.run('test.bump', { namespace: `ns-${i}`, name: 'x', fail: true }, ctx()),
      ).rejects.toThrow();
    }
    const err = await refusal(c.runner.run('test.bump', { namespace: 'elsewhere', name: 'y' }, ctx()));
    expect(err.rule).toBe('breaker');
    expect(err.reason).toContain('--scope prod`');
  });
});
