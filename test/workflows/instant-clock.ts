import type { Clock } from '../../src/workflows/clock.ts';

/** A clock whose timers fire on the next turn while virtual time jumps to their due time (for oracles). */
export class InstantClock implements Clock {
  private current = Date.parse('2026-01-01T00:00:00Z');

  now(): number {
    return this.current;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const at = this.current + Math.max(0, ms);
    const handle = setImmediate(() => {
      this.current = Math.max(this.current, at);
      fn();
    });
    return () => clearImmediate(handle);
  }
}
