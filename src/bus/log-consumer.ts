import type { Logger } from '../telemetry/logger.ts';
import type { EventLog, LoggedEvent } from '../events/log.ts';
import { describeError } from '../errors.ts';
import { endSlice, type Pacer } from './pacer.ts';

export interface LogConsumerOptions {
  readonly name: string;
  readonly log: EventLog;
  /** Handles a batch in order; must commit the checkpoint itself (atomically with its effects) and be
   * idempotent for events it has already seen. Throwing retries the same batch after a pause. */
  readonly handle: (batch: readonly LoggedEvent[]) => Promise<void>;
  readonly logger: Logger;
  /** Events per batch (default 100): each batch runs to completion on the event loop, so keep it short. */
  readonly batchSize?: number;
  readonly retryDelayMs?: number;
  /** Holds the consumer to its share of a saturated process (default: never waits). */
  readonly pacer?: Pacer;
}

const DEFAULT_BATCH = 100;

/**
 * Sizes background work so one slice takes about `budgetMs` of wall time: the per-item cost is measured on
 * each slice and the next size moves halfway towards what fits the budget, within [min, max].
 */
export class SliceSizer {
  private current: number;

  constructor(private readonly limits: { min: number; max: number; budgetMs: number }) {
    this.current = limits.min;
  }

  get size(): number {
    return this.current;
  }

  record(items: number, ms: number): void {
    if (items <= 0) return;
    const { min, max, budgetMs } = this.limits;
    const fits = ms > 0 ? (budgetMs * items) / ms : max;
    this.current = Math.round(Math.min(max, Math.max(min, (this.current + fits) / 2)));
  }
}

/**
 * Follows the durable event log from its committed offset: at-least-once delivery to one in-process
 * consumer. `wake()` after each ingest commit makes delivery immediate; a crash resumes from the offset.
 */
export class LogConsumer {
  private running = false;
  private wakeRequested = false;
  private stopped = true;
  private loop: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: LogConsumerOptions) {}

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Asks the consumer to look for new events now. */
  wake(): void {
    if (this.stopped) return;
    this.wakeRequested = true;
    if (!this.running) this.loop = this.run();
  }

  /** Resolves once everything stored so far has been handled (tests and shutdown use it). */
  async drain(): Promise<void> {
    while (this.running || this.wakeRequested) await (this.loop ?? Promise.resolve());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.loop;
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.wakeRequested && !this.stopped) {
        this.wakeRequested = false;
        for (;;) {
          const started = performance.now();
          // From the committed offset each time: once caught up, the log hands appends to the consumer in
          // their own transaction (EventLog.follow) and moves the offset past them without this loop.
          const batch = await this.options.log.readFrom(
            this.options.name,
            this.options.batchSize ?? DEFAULT_BATCH,
          );
          if (batch.length === 0 || this.stopped) break;
          await this.options.handle(batch);
          // Let pending I/O (webhooks waiting for their commit) run before the next batch: consumers catch up
          // in short slices instead of holding the event loop through a whole backlog.
          // A wake meanwhile (every ingest commit wakes the router) only asks this loop to go on.
          await endSlice(this.options.pacer, started);
        }
      }
    } catch (err) {
      this.options.logger.error(
        { consumer: this.options.name, err: describeError(err) },
        'event consumer failed; retrying',
      );
      this.timer = setTimeout(() => this.wake(), this.options.retryDelayMs ?? 1000);
      this.timer.unref();
    } finally {
      this.running = false;
    }
  }
}
