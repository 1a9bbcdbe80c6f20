import { z } from 'zod';

/**
 * The chaos knobs. Injected errors and latency model a failing downstream dependency (live pricing and
 * recommendations); degraded mode bypasses that dependency, which is why turning it on stops the errors.
 */

export interface ChaosSettings {
  /** Probability (0–1) that a dependency call fails. */
  readonly errorRate: number;
  /** Latency added to each dependency call, in milliseconds. */
  readonly latencyMs: number;
  /** Uniform jitter around latencyMs: each call waits latencyMs ± latencyJitterMs (never below 0). */
  readonly latencyJitterMs: number;
  /** Serve cached prices and no recommendations, never calling the dependency. */
  readonly degradedMode: boolean;
  /** Make /readyz answer 503, to exercise "pod not ready" alerts. */
  readonly readinessFailing: boolean;
  /**
   * Dependency calls one replica may have in flight (0: unlimited); further calls queue in order. With a
   * per-call latency this gives each replica a capacity, so a traffic surge queues (latency grows) until
   * more replicas share the load: the saturation that scaling out cures.
   */
  readonly maxConcurrency: number;
}

/** Who last set degraded mode: the environment, the admin endpoint, or a watched config source. */
export type SettingSource = 'env' | 'admin' | `config:${string}`;

export const DEFAULT_CHAOS: ChaosSettings = {
  errorRate: 0,
  latencyMs: 0,
  latencyJitterMs: 0,
  degradedMode: false,
  readinessFailing: false,
  maxConcurrency: 0,
};

/** Body of `PUT /admin/chaos`: any subset of the knobs; unknown keys are rejected. */
export const chaosPatchSchema = z
  .object({
    errorRate: z.number().min(0).max(1),
    latencyMs: z.number().int().min(0).max(60_000),
    latencyJitterMs: z.number().int().min(0).max(60_000),
    degradedMode: z.boolean(),
    readinessFailing: z.boolean(),
    maxConcurrency: z.number().int().min(0).max(10_000),
  })
  .partial()
  .strict();

export type ChaosPatch = z.infer<typeof chaosPatchSchema>;

/** The failing dependency's error; the HTTP layer maps it to 503 so Prometheus counts a 5xx. */
export class DependencyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DependencyError';
  }
}

export interface ChaosDeps {
  /** Uniform in [0, 1); injected so tests decide which calls fail. */
  readonly random: () => number;
  /** Waits; injected so tests assert the requested delay instead of measuring time. */
  readonly sleep: (ms: number) => Promise<void>;
}

type Listener = (settings: ChaosSettings) => void;

/** Holds the current knobs and runs the simulated dependency call under them. */
export class Chaos {
  private current: ChaosSettings;
  private degradedSource: SettingSource;
  private readonly listeners: Listener[] = [];
  private active = 0;
  private readonly queue: (() => void)[] = [];

  constructor(
    initial: ChaosSettings,
    private readonly deps: ChaosDeps,
  ) {
    this.current = { ...initial };
    this.degradedSource = 'env';
  }

  get settings(): ChaosSettings {
    return this.current;
  }

  /** Where the current degraded-mode value came from (shown by GET /admin/chaos). */
  get degradedModeSource(): SettingSource {
    return this.degradedSource;
  }

  /** Applies a validated patch; the last writer wins, whichever source it is. */
  update(patch: ChaosPatch, source: SettingSource): ChaosSettings {
    const next: ChaosSettings = { ...this.current };
    for (const [key, value] of Object.entries(patch)) {
      if (value !== undefined) Object.assign(next, { [key]: value });
    }
    if (patch.degradedMode !== undefined) this.degradedSource = source;
    this.current = next;
    this.admitQueued();
    for (const listener of this.listeners) listener(next);
    return next;
  }

  onChange(listener: Listener): void {
    this.listeners.push(listener);
  }

  /** The delay the next dependency call waits: latencyMs ± latencyJitterMs, floored at 0. */
  nextDelayMs(): number {
    const { latencyMs, latencyJitterMs } = this.current;
    if (latencyMs === 0 && latencyJitterMs === 0) return 0;
    const jitter = (this.deps.random() * 2 - 1) * latencyJitterMs;
    return Math.max(0, Math.round(latencyMs + jitter));
  }

  /**
   * Calls the simulated pricing/recommendation dependency: waits the injected latency, then fails with
   * probability errorRate. Callers skip it entirely in degraded mode.
   */
  async callDependency(): Promise<void> {
    await this.acquire();
    try {
      await this.call();
    } finally {
      this.active--;
      this.admitQueued();
    }
  }

  /** Calls waiting for a free slot (maxConcurrency reached). */
  get queued(): number {
    return this.queue.length;
  }

  private acquire(): Promise<void> {
    const limit = this.current.maxConcurrency;
    if ((limit === 0 || this.active < limit) && this.queue.length === 0) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private admitQueued(): void {
    const limit = this.current.maxConcurrency;
    while (this.queue.length > 0 && (limit === 0 || this.active < limit)) {
      this.active++;
      this.queue.shift()!();
    }
  }

  private async call(): Promise<void> {
    const delay = this.nextDelayMs();
    if (delay > 0) await this.deps.sleep(delay);
    const { errorRate } = this.current;
    if (errorRate > 0 && this.deps.random() < errorRate) {
      throw new DependencyError('pricing service unavailable (injected fault); degraded mode bypasses it');
    }
  }
}
