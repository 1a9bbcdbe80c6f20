import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GUARD_RULES, GuardRefusedError } from '../../src/guard/errors.ts';
import { ctx, GuardDb, harness, type Harness } from './support.ts';

const shop = { namespace: 'shop', name: 'api' };

async function refusal(promise: Promise<unknown>): Promise<GuardRefusedError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GuardRefusedError);
  return err as GuardRefusedError;
}

describe('guard rails, one rule at a time', () => {
  let db: GuardDb;
  let h: Harness;
  beforeEach(() => {
    db = new GuardDb();
    h = harness({ db: db.open() });
  });
  afterEach(() => db.close());

  it('passes an allowed action through every rule in order and acts once', async () => {
    h.incidents.states.set('inc-1', 'firing');
    const result = await h.runner.run('test.bump', shop, ctx({ incidentId: 'inc-1' }));
    expect(result.output).toEqual({ before: 0, after: 1 });
    expect(h.action.applied.get('shop/api')).toBe(1);
    expect(h.verdicts.map((v) => v.rule)).toEqual([...GUARD_RULES]);
    expect(h.verdicts.every((v) => v.outcome === 'allowed')).toBe(true);
    const metrics = await h.registry.metrics();
    expect(metrics).toContain('rebound_guard_verdicts_total{rule="firing",outcome="allowed"} 1');
    expect(metrics).toContain('rebound_guard_budget_limit 3');
    expect(h.verdicts[0]).toMatchObject({
      action: 'test.bump',
      target: { cluster: 'prod', namespace: 'shop', kind: 'Deployment', name: 'api' },
      correlationId: 'corr-1',
      incidentId: 'inc-1',
    });
  });

  it('lets read-only actions through without verdicts', async () => {
    const result = await h.runner.run('test.look', { name: 'x' }, ctx());
    expect(result.output).toEqual({ seen: 'x' });
    expect(h.verdicts).toEqual([]);
  });

  it('allowlist: refuses namespaces, kinds and clusters outside it (not retryable)', async () => {
    const ns = await refusal(h.runner.run('test.bump', { namespace: 'kube-system', name: 'dns' }, ctx()));
    expect(ns).toMatchObject({ rule: 'allowlist', retryable: false, name: 'Rebound.GuardRefused.Allowlist' });
    expect(ns.reason).toContain('namespace "kube-system"');
    const kind = await refusal(h.runner.run('test.bump', { ...shop, kind: 'Secret' }, ctx()));
    expect(kind.reason).toContain('kind "Secret"');
    const node = await refusal(h.runner.run('test.bump', { kind: 'Node', name: 'n1' }, ctx()));
    expect(node.reason).toContain('kind "Node"');
    // Wildcards in the allowlist.
    await h.runner.run('test.bump', { namespace: 'team-a', name: 'api' }, ctx());
    expect(h.action.calls).toHaveLength(1);
    expect(h.verdicts.filter((v) => v.outcome === 'refused').map((v) => v.rule)).toEqual([
      'allowlist',
      'allowlist',
      'allowlist',
    ]);
  });

  it('shadow: the caller flag runs the action with shadow=true and touches no rail state', async () => {
    const result = await h.runner.run('test.bump', shop, ctx({ shadow: true }));
    expect(result.writes).toEqual([
      {
        method: 'PATCH',
        path: '/bump/shop/api',
        contentType: 'application/merge-patch+json',
        body: { n: 1 },
      },
    ]);
    expect(h.action.calls).toEqual([expect.objectContaining({ shadow: true })]);
    expect(h.action.applied.size).toBe(0);
    expect(h.verdicts.map((v) => [v.rule, v.outcome])).toEqual([
      ['allowlist', 'allowed'],
      ['shadow', 'shadowed'],
    ]);
    expect((await h.runner.automation.status()).budgets).toEqual([]);
  });

  it('shadow: global and per-runbook configuration', async () => {
    const global = harness({
      db: db.open(),
      config: { allowlist: { namespaces: ['shop'] }, shadow: { global: true } },
    });
    await global.runner.run('test.bump', shop, ctx());
    expect(global.action.calls[0]!.shadow).toBe(true);
    const perRunbook = harness({
      db: db.open(),
      config: { allowlist: { namespaces: ['shop'] }, shadow: { runbooks: ['canary-rollback'] } },
    });
    await perRunbook.runner.run('test.bump', shop, ctx({ runbook: 'canary-rollback' }));
    await perRunbook.runner.run('test.bump', shop, ctx({ runbook: 'other' }));
    expect(perRunbook.action.calls.map((c) => c.shadow)).toEqual([true, false]);
    expect(perRunbook.verdicts.filter((v) => v.rule === 'shadow').map((v) => v.reason)).toEqual([
      'runbook canary-rollback is in guard.shadow.runbooks: writes are recorded, not sent',
      'shadow mode off: acting for real',
    ]);
  });

  it('idempotency: a replayed key returns the recorded result without acting again', async () => {
    const c = ctx({ idempotencyKey: 'exec-9/Scale/0' });
    const first = await h.runner.run('test.bump', shop, c);
    const again = await h.runner.run('test.bump', shop, { ...c, signal: new AbortController().signal });
    expect(again).toEqual(first);
    expect(h.action.calls).toHaveLength(1);
    expect(h.action.applied.get('shop/api')).toBe(1);
    expect(h.verdicts.at(-1)).toMatchObject({ rule: 'idempotency', outcome: 'replayed' });
    // The replay consumed no budget.
    expect(
      (await h.runner.automation.budgets.peek('prod/shop/Deployment/api', h.clock.now().getTime())).used,
    ).toBe(1);
  });

  it('idempotency: a key reused for another target is refused', async () => {
    await h.runner.run('test.bump', shop, ctx({ idempotencyKey: 'k' }));
    const err = await refusal(
      h.runner.run('test.bump', { namespace: 'shop', name: 'web' }, ctx({ idempotencyKey: 'k' })),
    );
    expect(err).toMatchObject({ rule: 'idempotency', retryable: false });
  });

  it('idempotency: a failed action frees its key and counts as a failed remediation', async () => {
    const c = ctx({ idempotencyKey: 'fails' });
    await expect(h.runner.run('test.bump', { ...shop, fail: true }, c)).rejects.toThrow('bump of api failed');
    const breaker = await h.runner.automation.breakers.get('prod/shop');
    expect(breaker.outcomes).toEqual([false]);
    await h.runner.run('test.bump', shop, c);
    expect(h.action.applied.get('shop/api')).toBe(1);
  });

  it('idempotency: a key whose holder died mid-action is refused as outcome unknown', async () => {
    const now = h.clock.now().getTime();
    await h.store.claimIdempotency({
      key: 'orphan',
      action: 'test.bump',
      targetKey: 'prod/shop/Deployment/api',
      state: 'started',
      owner: 'dead-pod/1',
      startedAt: now,
      expiresAt: now + 86_400_000,
    });
    const err = await refusal(h.runner.run('test.bump', shop, ctx({ idempotencyKey: 'orphan' })));
    expect(err).toMatchObject({ rule: 'idempotency', retryable: false });
    expect(err.reason).toContain('outcome is unknown');
    expect(h.action.calls).toHaveLength(0);
  });

  it('idempotency: an action stopped after it wrote keeps its key, so the resumed attempt does not act again', async () => {
    // Shutdown aborts the attempt's signal once the action has written: it fails "cancelled", unrecorded,
    // and the execution resumes later with the same key.
    const stopping = new AbortController();
    const c = ctx({
      idempotencyKey: 'exec-3/Scale#0/a0',
      signal: stopping.signal,
      onChange: () => stopping.abort(),
    });
    await expect(h.runner.run('test.bump', { ...shop, fail: true, failAfterWrite: true }, c)).rejects.toThrow(
      'bump of api failed',
    );
    const resumed = await refusal(
      h.runner.run('test.bump', shop, ctx({ idempotencyKey: 'exec-3/Scale#0/a0' })),
    );
    expect(resumed).toMatchObject({ rule: 'idempotency', retryable: false });
    expect(resumed.reason).toContain('died or was stopped mid-action, so the outcome is unknown');
    expect(h.action.calls).toHaveLength(1);
    // Stopped before writing, the key is free: nothing may have changed.
    const early = new AbortController();
    early.abort(new Error('shutting down'));
    h.action.gate = new Promise(() => {});
    await expect(
      h.runner.run('test.bump', shop, ctx({ idempotencyKey: 'exec-4/Scale#0/a0', signal: early.signal })),
    ).rejects.toThrow();
    h.action.gate = undefined;
    await h.runner.run('test.bump', shop, ctx({ idempotencyKey: 'exec-4/Scale#0/a0' }));
    expect(h.action.applied.get('shop/api')).toBe(1);
  });

  it('pause: matching scope refuses, others act, and `until` ends it', async () => {
    const until = new Date(h.clock.now().getTime() + 30 * 60_000);
    await h.runner.automation.pause({ match: { namespace: 'shop' }, until, reason: 'deploy freeze' });
    const err = await refusal(h.runner.run('test.bump', shop, ctx()));
    expect(err).toMatchObject({ rule: 'pause', retryable: false, name: 'Rebound.GuardRefused.Paused' });
    expect(err.reason).toContain('deploy freeze');
    await h.runner.run('test.bump', { namespace: 'team-a', name: 'api' }, ctx());
    h.clock.advance(30 * 60_000);
    await h.runner.run('test.bump', shop, ctx());
    expect(h.action.calls.map((c) => c.params.namespace)).toEqual(['team-a', 'shop']);
  });

  it('objects an action also changes pass the allowlist and pauses before it acts', async () => {
    const node = { kind: 'Node', name: 'n1' };
    const nodes = harness({
      db: db.open(),
      config: { allowlist: { namespaces: ['shop', 'team-*'], kinds: ['Node', 'Pod'] } },
    });
    const outside = await refusal(
      nodes.runner.run('test.bump', { ...node, also: ['kube-system/dns'] }, ctx()),
    );
    expect(outside).toMatchObject({ rule: 'allowlist', retryable: false });
    expect(outside.reason).toBe(
      'test.bump on prod/-/Node/n1 would also change prod/kube-system/Pod/dns: namespace "kube-system" is not in ' +
        'guard.allowlist.namespaces (shop, team-*); add it to allow automation there',
    );
    await nodes.runner.automation.pause({ match: { namespace: 'shop' }, reason: 'deploy freeze' });
    const paused = await refusal(
      nodes.runner.run('test.bump', { ...node, also: ['team-a/web', 'shop/api'] }, ctx()),
    );
    expect(paused.rule).toBe('pause');
    expect(paused.reason).toMatch(
      /would also change prod\/shop\/Pod\/api, and automation there is paused by .*deploy freeze/,
    );
    // Refused before acting: nothing applied, no budget spent, no failure for the breaker.
    expect(nodes.action.applied.size).toBe(0);
    const status = await nodes.runner.automation.status();
    expect(status.budgets).toEqual([]);
    expect(status.breakers.every((b) => b.outcomes === 0)).toBe(true);
    // An action that does not report its writes is given its budget back all the same: the rails stopped it.
    await refusal(nodes.runner.run('test.bumpQuietly', { ...node, also: ['shop/api'] }, ctx()));
    expect((await nodes.runner.automation.status()).budgets).toEqual([]);
    // In shadow mode only the allowlist is asked; pauses are not (as for the target itself).
    const shadowed = await refusal(
      nodes.runner.run('test.bump', { ...node, also: ['kube-system/dns'] }, ctx({ shadow: true })),
    );
    expect(shadowed.rule).toBe('allowlist');
    await nodes.runner.run('test.bump', { ...node, also: ['shop/api'] }, ctx({ shadow: true }));
    expect(nodes.action.calls.at(-1)).toMatchObject({ shadow: true });
    await nodes.runner.automation.resume();
    await nodes.runner.run('test.bump', { ...node, also: ['team-a/web', 'shop/api', 'shop/db'] }, ctx());
    expect(nodes.action.applied.get('-/n1')).toBe(1);
    expect(nodes.verdicts.slice(-2).map((v) => [v.rule, v.outcome, v.reason])).toEqual([
      ['allowlist', 'allowed', 'the 3 Pods (namespaces team-a, shop) it also changes are in the allowlist'],
      ['pause', 'allowed', 'no pause matches the 3 Pods (namespaces team-a, shop) it also changes'],
    ]);
  });

  it('pause: matches incident labels and runbook names; resume lifts it', async () => {
    await h.runner.automation.pause({ match: { team: 'payments' }, reason: 'incident review' });
    await refusal(h.runner.run('test.bump', shop, ctx({ labels: { team: 'payments' } })));
    await h.runner.run('test.bump', shop, ctx({ labels: { team: 'search' } }));
    const all = await h.runner.automation.pause({ match: {}, reason: 'kill switch' });
    await refusal(h.runner.run('test.bump', shop, ctx({ labels: { team: 'search' } })));
    await h.runner.automation.resume({ pauseId: all.id });
    await h.runner.run('test.bump', shop, ctx({ labels: { team: 'search' } }));
    const result = await h.runner.automation.resume();
    expect(result.removedPauses.map((p) => p.reason)).toEqual(['incident review']);
    await h.runner.run(
      'test.bump',
      { namespace: 'team-b', name: 'x' },
      ctx({ labels: { team: 'payments' } }),
    );
    expect(h.action.calls).toHaveLength(3);
  });

  it('firing-only: refuses once every alert resolved, and when the incident is unknown', async () => {
    h.incidents.states.set('inc-2', 'resolved');
    const err = await refusal(h.runner.run('test.bump', shop, ctx({ incidentId: 'inc-2' })));
    expect(err).toMatchObject({ rule: 'firing', retryable: false, name: 'Rebound.GuardRefused.NotFiring' });
    expect(err.reason).toContain('resolved');
    const unknown = await refusal(h.runner.run('test.bump', shop, ctx({ incidentId: 'inc-404' })));
    expect(unknown.reason).toContain('unknown');
    h.incidents.states.set('inc-2', 'firing');
    await h.runner.run('test.bump', shop, ctx({ incidentId: 'inc-2' }));
    expect(h.action.calls).toHaveLength(1);
  });

  it('firing-only: after the incident resolves, an execution may put back only a target it changed itself', async () => {
    h.incidents.states.set('inc-5', 'firing');
    const scaleOut = ctx({ incidentId: 'inc-5', executionId: 'high-latency:inc-5', idempotencyKey: 'out' });
    await h.runner.run('test.bump', shop, scaleOut);
    h.incidents.states.set('inc-5', 'resolved');
    const scaleIn = ctx({ incidentId: 'inc-5', executionId: 'high-latency:inc-5', idempotencyKey: 'in' });
    await h.runner.run('test.bump', shop, scaleIn);
    expect(h.verdicts.filter((v) => v.rule === 'firing').at(-1)!.reason).toMatch(
      /has resolved, but execution high-latency:inc-5 changed .*api earlier and may put it back/,
    );
    // Another execution, or the same one on a target it never touched, is still refused.
    const other = ctx({ incidentId: 'inc-5', executionId: 'other:inc-5', idempotencyKey: 'o' });
    expect((await refusal(h.runner.run('test.bump', shop, other))).rule).toBe('firing');
    const elsewhere = { namespace: 'shop', name: 'web' };
    const untouched = ctx({ incidentId: 'inc-5', executionId: 'high-latency:inc-5', idempotencyKey: 'w' });
    expect((await refusal(h.runner.run('test.bump', elsewhere, untouched))).rule).toBe('firing');
    expect(h.action.calls).toHaveLength(2);
  });

  it('firing-only: a refusal spends no budget and leaves the key free for a later attempt', async () => {
    h.incidents.states.set('inc-3', 'resolved');
    const c = ctx({ incidentId: 'inc-3', idempotencyKey: 'late' });
    await refusal(h.runner.run('test.bump', shop, c));
    expect(await h.runner.automation.budgets.list(h.clock.now().getTime())).toEqual([]);
    expect(await h.store.getIdempotency('late')).toBeUndefined();
    expect((await h.store.listLocks(h.clock.now().getTime())).length).toBe(0);
  });

  it('order: the earliest failing rule decides and later rules are not consulted', async () => {
    h.incidents.states.set('inc-4', 'resolved');
    await h.runner.automation.pause({ match: { namespace: 'shop' }, reason: 'freeze' });
    const paused = await refusal(h.runner.run('test.bump', shop, ctx({ incidentId: 'inc-4' })));
    expect(paused.rule).toBe('pause');
    expect(h.incidents.reads).toBe(0);
    const c = ctx({ shadow: true, incidentId: 'inc-4' });
    const shadowOutside = await refusal(h.runner.run('test.bump', { namespace: 'prod-db', name: 'pg' }, c));
    expect(shadowOutside.rule).toBe('allowlist');
    // Shadow comes before pause and firing: a shadow run inside a paused scope still records its writes.
    const shadow = await h.runner.run('test.bump', shop, c);
    expect(shadow.writes).toHaveLength(1);
    expect(h.verdicts.slice(-2).map((v) => v.outcome)).toEqual(['allowed', 'shadowed']);
  });
});
