import { describe, expect, it } from 'vitest';
import { LoadPacer, UNPACED } from '../../src/bus/pacer.ts';

describe('LoadPacer', () => {
  /** A pacer fed `samples` (no timer of its own). */
  const pacer = (samples: number[], waiting: boolean, share?: number) => {
    const p = new LoadPacer({ sampleMs: 0, foregroundWaiting: () => waiting, ...(share ? { share } : {}) });
    for (const u of samples) p.observe(u);
    return p;
  };
  const storm = [0.97, 0.95, 0.99];

  it('holds background work to a quarter of a saturated process while requests wait', () => {
    const p = pacer(storm, true);
    expect(p.saturated).toBe(true);
    expect(p.pauseAfter(10)).toBe(30);
    expect(pacer(storm, true, 0.5).pauseAfter(10)).toBe(10);
  });

  it('never pauses longer than 100 ms, so a storm slows the bus down but never stalls it', () => {
    expect(pacer(storm, true).pauseAfter(1_000)).toBe(100);
  });

  it('does not pause when nothing waits for the store, or when the loop has room', () => {
    expect(pacer(storm, false).pauseAfter(10)).toBe(0);
    expect(pacer([0.5, 0.5, 0.5], true).pauseAfter(10)).toBe(0);
    expect(UNPACED.pauseAfter(10)).toBe(0);
  });

  it('counts the process saturated only after three busy samples in a row, and not after one quiet one', () => {
    expect(pacer([0.99, 0.99], true).saturated).toBe(false);
    expect(pacer([0.99, 0.5, 0.99, 0.99], true).saturated).toBe(false);
    const p = pacer([0.99, 0.99, 0.99], true);
    expect(p.saturated).toBe(true);
    p.observe(0.6);
    expect(p.saturated).toBe(false);
  });
});
