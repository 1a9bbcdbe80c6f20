import type { Logger } from '../telemetry/logger.ts';
import type { EventReader } from '../events/port.ts';
import { describeError } from '../errors.ts';
import type { ApprovalStore } from '../approvals/port.ts';
import type { WorkflowStore } from '../workflows/port.ts';
import type { IncidentStore } from './port.ts';

/** What one retention pass deleted. */
export interface SweepResult {
  events: number;
  incidents: number;
  executions: number;
  approvals: number;
}

export interface RetentionOptions {
  /** Resolved incidents older than this are deleted. */
  readonly incidentMaxAgeDays: number;
  /** Archived events older than this are deleted. */
  readonly eventMaxAgeDays: number;
  /**
   * Workflow executions that ended longer ago than this are deleted, with their history; so are approvals
   * closed longer ago.
   */
  readonly executionMaxAgeDays: number;
  readonly intervalSeconds: number;
  readonly incidents: IncidentStore;
  readonly events: EventReader;
  readonly executions: Pick<WorkflowStore, 'deleteEndedBefore'>;
  readonly approvals: Pick<ApprovalStore, 'deleteClosedBefore'>;
  readonly logger: Logger;
  readonly now?: () => Date;
}

/**
 * Deletes events, resolved incidents, ended workflow executions and closed approvals older than their
 * configured ages, once at start and then periodically.
 */
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
  async sweep(): Promise<SweepResult> {
    const now = this.options.now?.() ?? new Date();
    const cutoff = (days: number) => new Date(now.getTime() - days * 86_400_000);
    const deleted: SweepResult = { events: 0, incidents: 0, executions: 0, approvals: 0 };
    try {
      const { signal } = this.stopping;
      deleted.incidents = await this.options.incidents.deleteResolvedBefore(
        cutoff(this.options.incidentMaxAgeDays).toISOString(),
        signal,
      );
      deleted.events = await this.options.events.deleteEventsBefore(
        cutoff(this.options.eventMaxAgeDays).toISOString(),
        signal,
      );
      const workflowCutoff = cutoff(this.options.executionMaxAgeDays);
      deleted.executions = await this.options.executions.deleteEndedBefore(workflowCutoff.getTime(), signal);
      deleted.approvals = await this.options.approvals.deleteClosedBefore(
        workflowCutoff.toISOString(),
        signal,
      );
      if (Object.values(deleted).some((n) => n > 0))
        this.options.logger.info(deleted, 'retention sweep deleted old data');
    } catch (err) {
      this.options.logger.error({ err: describeError(err), deleted }, 'retention sweep failed');
    }
    return deleted;
  }
}
