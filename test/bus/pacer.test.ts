import { describe, expect, it } from 'vitest';
import { LoadPacer, UNPACED } from '../../src/bus/pacer.ts';

describe('LoadPacer', () => {
  const pacer = (utilisation: number, waiting: boolean, share?: number) =>
    new LoadPacer({
      utilisation: () => utilisation,
      foregroundWaiting: () => waiting,
      ...(share ? { share } : {}),
    });

  it('holds background work to a quarter of a saturated process while requests wait', () => {
    const p = pacer(0.97, true);
    expect(p.saturated).toBe(true);
    expect(p.pauseAfter(10)).toBe(30);
    expect(pacer(0.97, true, 0.5).pauseAfter(10)).toBe(10);
  });

  it('never pauses longer than 100 ms, so a storm slows the bus down but never stalls it', () => {
    expect(pacer(1, true).pauseAfter(1_000)).toBe(100);
  });

  it('does not pause when nothing waits for the store, or when the loop has room', () => {
    expect(pacer(0.99, false).pauseAfter(10)).toBe(0);
    expect(pacer(0.5, true).pauseAfter(10)).toBe(0);
    expect(UNPACED.pauseAfter(10)).toBe(0);
  });
});
