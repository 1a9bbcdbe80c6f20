import type { Logger } from '../telemetry/logger.ts';
import type { EventReader } from '../events/port.ts';
import { describeError } from '../errors.ts';
import type { IncidentStore } from './port.ts';

export interface RetentionOptions {
  /** Resolved incidents older than this are deleted. */
  readonly incidentMaxAgeDays: number;
  /** Archived events older than this are deleted. */
  readonly eventMaxAgeDays: number;
  readonly intervalSeconds: number;
  readonly incidents: IncidentStore;
  readonly events: EventReader;
  readonly logger: Logger;
  readonly now?: () => Date;
}

/** Deletes events and resolved incidents older than the configured age, once at start and then periodically. */
export class RetentionSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  /** Aborted by stop(): a sweep under way stops between chunks instead of holding shutdown. */
  private readonly stopping = new AbortController();

  constructor(private readonly options: RetentionOptions) {}

  start(): void {
    this.running = this.sweep();
    this.timer = setInterval(() => {
      this.running = this.sweep();
    }, this.options.intervalSeconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopping.abort();
    await this.running;
  }

  /** One pass; returns what was deleted. Never throws (a failed pass is logged and retried next time). */
  async sweep(): Promise<{ events: number; incidents: number }> {
    const now = this.options.now?.() ?? new Date();
    const cutoff = (days: number) => new Date(now.getTime() - days * 86_400_000).toISOString();
    try {
      const { signal } = this.stopping;
      const incidents = await this.options.incidents.deleteResolvedBefore(
        cutoff(this.options.incidentMaxAgeDays),
        signal,
      );
      const events = await this.options.events.deleteEventsBefore(
        cutoff(this.options.eventMaxAgeDays),
        signal,
      );
      if (incidents + events > 0)
        this.options.logger.info({ incidents, events }, 'retention sweep deleted old data');
      return { events, incidents };
    } catch (err) {
      this.options.logger.error({ err: describeError(err) }, 'retention sweep failed');
      return { events: 0, incidents: 0 };
    }
  }
}
