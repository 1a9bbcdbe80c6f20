import { afterEach, describe, expect, it } from 'vitest';
import { ActionRegistry } from '../../src/actions/registry.ts';
import { guardConfigSchema } from '../../src/guard/config.ts';
import { GuardedRunner } from '../../src/guard/runner.ts';
import type { GuardVerdict } from '../../src/guard/verdict.ts';
import { SqliteGuardStore } from '../../src/store/sqlite/guard.ts';
import { BumpAction, ctx, GuardDb, Incidents, TestClock } from './support.ts';

describe('GuardedRunner over the real ActionRegistry', () => {
  const db = new GuardDb();
  afterEach(() => db.close());

  it('looks definitions up by name and guards only the mutating ones', async () => {
    const action = new BumpAction();
    const registry = new ActionRegistry([action.definition, action.readOnly]);
    const verdicts: GuardVerdict[] = [];
    const runner = new GuardedRunner({
      inner: registry,
      actions: (name) => (registry.has(name) ? registry.get(name) : undefined),
      store: new SqliteGuardStore(db.open()),
      config: guardConfigSchema.parse({ allowlist: { namespaces: ['shop'] }, budget: { maxActions: 1 } }),
      incidents: new Incidents(),
      now: new TestClock().now,
      onVerdict: (v) => void verdicts.push(v),
    });
    expect(runner.has('test.bump')).toBe(true);
    // What a graceful stop waits for (ActionGate): the mutating actions, and any it does not know.
    expect([
      runner.readOnly('test.look'),
      runner.readOnly('test.bump'),
      runner.readOnly('test.nope'),
    ]).toEqual([true, false, false]);
    expect((await runner.run('test.look', { name: 'a' }, ctx())).output).toEqual({ seen: 'a' });
    await runner.run('test.bump', { namespace: 'shop', name: 'api' }, ctx());
    await expect(runner.run('test.bump', { namespace: 'shop', name: 'api' }, ctx())).rejects.toMatchObject({
      name: 'Rebound.GuardRefused.Budget',
    });
    await expect(runner.run('test.bump', { namespace: 'shop' }, ctx())).rejects.toMatchObject({
      code: 'INVALID_PAYLOAD',
      path: 'name',
    });
    await expect(runner.run('test.nope', {}, ctx())).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(verdicts.filter((v) => v.outcome === 'refused').map((v) => v.rule)).toEqual(['budget']);
  });
});
