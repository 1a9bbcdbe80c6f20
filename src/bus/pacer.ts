import { performance } from 'node:perf_hooks';

/**
 * How the bus's background work (routing, the incident projection) shares the process with ingest.
 *
 * Ingest acknowledges an Alertmanager webhook only once its alerts are durable; everything after that is
 * derived from the durable log and can run later. While the process is saturated and webhooks are waiting
 * for their commit, background work takes at most `share` of the time: after a slice that took `t` ms it
 * pauses `t × (1 − share) / share` ms. Otherwise it only yields to pending I/O between slices, so at
 * ordinary load routing stays immediate. It never stops: under a sustained storm it still makes progress,
 * and it catches up at full speed as soon as the storm passes.
 */
export interface Pacer {
  /** Milliseconds to pause after a slice of background work that took `sliceMs`. */
  pauseAfter(sliceMs: number): number;
  /** Whether background work is being held to its share right now. */
  readonly saturated: boolean;
}

const MAX_PAUSE_MS = 100;

/** Background work never waits (tests, tools, and the serverless footprint). */
export const UNPACED: Pacer = { pauseAfter: () => 0, saturated: false };

export interface LoadPacerOptions {
  /** True while requests wait for the store (ingest's pending depth). */
  readonly foregroundWaiting: () => boolean;
  /** The background's share of a saturated process (default 0.25). */
  readonly share?: number;
  /** Event-loop utilisation above which a sample counts as saturated (default 0.9). */
  readonly saturatedAbove?: number;
  /**
   * Saturated samples in a row before background work is held back (default 3: 300 ms). A storm lasts
   * seconds; a lone busy sample is a collection, a burst or a stall of a shared machine, and holding the
   * router back for it only moves events from the fast path to the slower read of the log.
   */
  readonly sustainedSamples?: number;
  /** How often utilisation is sampled (default 100 ms); 0 samples nothing (tests feed `observe`). */
  readonly sampleMs?: number;
}

/** Paces background work by event-loop utilisation, sampled on an unref'd timer. */
export class LoadPacer implements Pacer {
  private readonly ratio: number;
  private readonly threshold: number;
  private readonly sustained: number;
  /** Samples in a row above the threshold, up to now. */
  private aboveInARow = 0;
  private last = performance.eventLoopUtilization();
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: LoadPacerOptions) {
    const share = options.share ?? 0.25;
    this.ratio = (1 - share) / share;
    this.threshold = options.saturatedAbove ?? 0.9;
    this.sustained = options.sustainedSamples ?? 3;
    const sampleMs = options.sampleMs ?? 100;
    if (sampleMs > 0) {
      this.timer = setInterval(() => this.sample(), sampleMs);
      this.timer.unref();
    }
  }

  get saturated(): boolean {
    return this.aboveInARow >= this.sustained && this.options.foregroundWaiting();
  }

  pauseAfter(sliceMs: number): number {
    // A slice's wall time includes the requests served while it waited for its commit, so the pause is
    // capped: background work slows down under a storm, it does not stall.
    return this.saturated ? Math.min(MAX_PAUSE_MS, sliceMs * this.ratio) : 0;
  }

  /** Takes one utilisation sample (0–1): the timer's, or a test's. */
  observe(utilisation: number): void {
    this.aboveInARow = utilisation > this.threshold ? this.aboveInARow + 1 : 0;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sample(): void {
    const now = performance.eventLoopUtilization();
    this.observe(performance.eventLoopUtilization(now, this.last).utilization);
    this.last = now;
  }
}

/**
 * Ends a slice of background work that began at `started` (performance.now()): waits out the pacer's
 * pause, or with none (or no pacer) resolves after the loop's next poll phase, so I/O queued meanwhile
 * (webhooks waiting for their commit) runs first.
 */
export function endSlice(pacer: Pacer | undefined, started: number): Promise<void> {
  const ms = pacer?.pauseAfter(performance.now() - started) ?? 0;
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : new Promise((r) => setImmediate(r));
}
