import { ReboundError } from '../../errors.ts';
import type { StoredEvent } from '../../events/envelope.ts';
import type { CoreMetrics } from '../../telemetry/metrics.ts';
import type { IngestConfig } from '../config.ts';
import type { AppendOutcome, EventWriter } from '../port.ts';
import { normaliseWebhook } from './normalise.ts';
import { parseWebhook } from './payload.ts';

export interface IngestResult {
  readonly accepted: number;
  readonly duplicates: number;
  /** Firing copies of alerts whose resolution was already stored: acknowledged, not stored. */
  readonly stale: number;
  /** Alerts Alertmanager left out of this notification (its receiver's `max_alerts`), as it reported. */
  readonly truncated: number;
  readonly events: readonly { id: string; correlationId: string; outcome: AppendOutcome['outcome'] }[];
}

export interface AlertmanagerReceiverDeps {
  readonly writer: EventWriter;
  readonly config: IngestConfig;
  readonly metrics: CoreMetrics;
  readonly now?: () => Date;
  /** Called after the events are durable; never throws into the request. */
  readonly onStored?: (events: readonly StoredEvent[]) => void;
}

/** Validates, normalises and durably stores one Alertmanager notification. */
export class AlertmanagerReceiver {
  private readonly now: () => Date;

  constructor(private readonly deps: AlertmanagerReceiverDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async receive(body: unknown): Promise<IngestResult> {
    const payload = parseWebhook(body);
    const { writer, config, metrics } = this.deps;
    // Shed load before doing work: 503 + Retry-After is retried by Alertmanager; a 4xx would drop the alert.
    // A notification larger than the whole limit is let in while the queue is below it: refusing it every
    // time would have Alertmanager retry it until its deadline and then drop it.
    const pending = writer.pendingDepth();
    const n = payload.alerts.length;
    if (pending + n > config.maxQueueDepth && !(n > config.maxQueueDepth && pending < config.maxQueueDepth)) {
      throw new ReboundError('OVERLOADED', 'ingest queue is full; retry later', {
        retryAfterMs: config.retryAfterSeconds * 1000,
      });
    }
    const events = normaliseWebhook(payload, config, this.now());
    const outcomes = await writer.append(events);
    let duplicates = 0;
    let stale = 0;
    let firing = 0;
    const stored: StoredEvent[] = [];
    outcomes.forEach((outcome, i) => {
      const event = events[i]!;
      if ((event.envelope.detail as { status: string }).status === 'firing') firing += 1;
      if (outcome.outcome === 'duplicate') duplicates += 1;
      else if (outcome.outcome === 'stale') stale += 1;
      else stored.push(event);
    });
    // One counter update per status and request, not per alert (a label lookup each).
    if (firing > 0) metrics.alertsReceived.inc({ status: 'firing' }, firing);
    if (events.length > firing) metrics.alertsReceived.inc({ status: 'resolved' }, events.length - firing);
    if (duplicates > 0) metrics.duplicates.inc(duplicates);
    if (stale > 0) metrics.stale.inc(stale);
    const truncated = payload.truncatedAlerts ?? 0;
    if (truncated > 0) metrics.truncated.inc(truncated);
    if (stored.length > 0) this.deps.onStored?.(stored);
    return {
      accepted: stored.length,
      duplicates,
      stale,
      truncated,
      // A duplicate answers with the event stored before it, a stale alert with the resolution that
      // superseded it: the id a client can look up.
      events: outcomes.map(({ outcome, id, correlationId }) => ({ id, correlationId, outcome })),
    };
  }
}
