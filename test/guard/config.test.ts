import { describe, expect, it } from 'vitest';
import { guardConfigSchema, parseDurationMs } from '../../src/guard/config.ts';
import { GuardRefusedError, GUARD_ERROR_NAMES, GUARD_RULES } from '../../src/guard/errors.ts';

describe('guard config', () => {
  it('has safe defaults: nothing allowed until namespaces are listed, 3 actions/hour, 80% over 10', () => {
    const config = guardConfigSchema.parse({});
    expect(config.allowlist).toEqual({
      clusters: ['*'],
      namespaces: [],
      kinds: ['Deployment', 'ConfigMap', 'Pod'],
    });
    expect(config.budget).toEqual({ maxActions: 3, window: 3_600_000 });
    expect(config.breaker).toEqual({ window: 10, threshold: 0.8, minOutcomes: 5, scope: 'namespace' });
    expect(config.lock).toEqual({ ttl: 300_000, wait: 30_000, pollInterval: 250 });
    expect(config.firingOnly).toEqual({ enabled: true, onUnknown: 'refuse', requireIncident: false });
  });

  it('normalises durations and rejects unknown keys and impossible settings', () => {
    expect(guardConfigSchema.parse({ budget: { window: '30m' }, lock: { wait: 1500 } })).toMatchObject({
      budget: { window: 1_800_000 },
      lock: { wait: 1500 },
    });
    expect(parseDurationMs('1.5h')).toBe(5_400_000);
    expect(parseDurationMs('soon')).toBeUndefined();
    const bad = guardConfigSchema.safeParse({
      budget: { windw: '1h' },
      breaker: { window: 3, minOutcomes: 5 },
    });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.path.join('.'))).toContain('budget');
    const impossible = guardConfigSchema.safeParse({ breaker: { window: 3, minOutcomes: 5 } });
    expect(impossible.error?.issues[0]?.path).toEqual(['breaker', 'minOutcomes']);
    expect(guardConfigSchema.safeParse({ lock: { ttl: '5 minutes' } }).error?.issues[0]?.message).toContain(
      'not a duration',
    );
  });

  it('names every refusal with a distinct ASL error name', () => {
    const names = GUARD_RULES.map((r) => GUARD_ERROR_NAMES[r]);
    expect(new Set(names).size).toBe(GUARD_RULES.length);
    const err = new GuardRefusedError('budget', false, 'spent');
    expect(err.name).toBe('Rebound.GuardRefused.Budget');
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      error: 'Rebound.GuardRefused.Budget',
      rule: 'budget',
      retryable: false,
      reason: 'spent',
    });
  });
});
