import { describe, expect, it } from 'vitest';
import { Chaos, DEFAULT_CHAOS, DependencyError, chaosPatchSchema } from '../src/chaos.ts';

function chaosWith(randoms: number[], settings = {}) {
  const sleeps: number[] = [];
  const chaos = new Chaos(
    { ...DEFAULT_CHAOS, ...settings },
    {
      random: () => {
        const next = randoms.shift();
        if (next === undefined) throw new Error('test ran out of random numbers');
        return next;
      },
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    },
  );
  return { chaos, sleeps };
}

describe('Chaos', () => {
  it('never fails or waits with the default knobs', async () => {
    const { chaos, sleeps } = chaosWith([]);
    await chaos.callDependency();
    expect(sleeps).toEqual([]);
  });

  it('fails a call exactly when the random draw is below the error rate', async () => {
    const { chaos } = chaosWith([0.29, 0.3, 0.99], { errorRate: 0.3 });
    await expect(chaos.callDependency()).rejects.toBeInstanceOf(DependencyError);
    await expect(chaos.callDependency()).resolves.toBeUndefined();
    await expect(chaos.callDependency()).resolves.toBeUndefined();
  });

  it('queues calls beyond maxConcurrency in order, and admits them as slots free or the limit rises', async () => {
    const releases: (() => void)[] = [];
    const started: number[] = [];
    const chaos = new Chaos(
      { ...DEFAULT_CHAOS, latencyMs: 10, maxConcurrency: 2 },
      { random: () => 0.5, sleep: () => new Promise<void>((resolve) => releases.push(resolve)) },
    );
    const calls = [1, 2, 3, 4].map((n) => chaos.callDependency().then(() => started.push(n)));
    await new Promise((r) => setImmediate(r));
    expect(releases).toHaveLength(2); // two in flight, two queued
    expect(chaos.queued).toBe(2);
    releases.shift()!();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([1]);
    expect(releases).toHaveLength(2); // the third call took the freed slot
    expect(chaos.queued).toBe(1);
    chaos.update({ maxConcurrency: 0 }, 'admin'); // unlimited: the last one is admitted at once
    await new Promise((r) => setImmediate(r));
    expect(chaos.queued).toBe(0);
    expect(releases).toHaveLength(3);
    for (const release of releases.splice(0)) release();
    await Promise.all(calls);
    expect(started.sort()).toEqual([1, 2, 3, 4]);
  });

  it('fails every call at error rate 1', async () => {
    const { chaos } = chaosWith([0.999999], { errorRate: 1 });
    await expect(chaos.callDependency()).rejects.toThrow(/degraded mode bypasses it/);
  });

  it('waits latency ± jitter, never below zero', async () => {
    const { chaos, sleeps } = chaosWith([0, 0.5, 0.999999], { latencyMs: 100, latencyJitterMs: 20 });
    await chaos.callDependency();
    await chaos.callDependency();
    await chaos.callDependency();
    expect(sleeps).toEqual([80, 100, 120]);
    const low = chaosWith([0], { latencyMs: 5, latencyJitterMs: 50 });
    expect(low.chaos.nextDelayMs()).toBe(0);
  });

  it('applies patches, records who set degraded mode, and notifies listeners', () => {
    const { chaos } = chaosWith([]);
    const seen: boolean[] = [];
    chaos.onChange((s) => seen.push(s.degradedMode));
    expect(chaos.degradedModeSource).toBe('env');
    chaos.update({ errorRate: 0.5 }, 'admin');
    expect(chaos.degradedModeSource).toBe('env');
    chaos.update({ degradedMode: true, latencyMs: undefined }, 'config:file:/x');
    expect(chaos.settings).toMatchObject({ errorRate: 0.5, degradedMode: true, latencyMs: 0 });
    expect(chaos.degradedModeSource).toBe('config:file:/x');
    expect(seen).toEqual([false, true]);
  });
});

describe('chaosPatchSchema', () => {
  it('accepts any subset of knobs and rejects out-of-range or unknown ones', () => {
    expect(chaosPatchSchema.safeParse({ errorRate: 0.3 }).success).toBe(true);
    expect(chaosPatchSchema.safeParse({}).success).toBe(true);
    expect(chaosPatchSchema.safeParse({ errorRate: 1.5 }).success).toBe(false);
    expect(chaosPatchSchema.safeParse({ latencyMs: -1 }).success).toBe(false);
    expect(chaosPatchSchema.safeParse({ latencyMs: 1.5 }).success).toBe(false);
    expect(chaosPatchSchema.safeParse({ degradedMode: 'true' }).success).toBe(false);
    expect(chaosPatchSchema.safeParse({ error_rate: 0.3 }).success).toBe(false);
  });
});
