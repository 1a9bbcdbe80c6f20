import type { FetchLike } from '../../integrations/http.ts';
import {
  enqueuePagerDutyEvent,
  PAGERDUTY_LIMITS,
  type PagerDutyEvent,
} from '../../integrations/pagerduty/events.ts';
import { truncate } from '../../integrations/text.ts';
import type { WriteRequest } from '../types.ts';
import {
  severityLabel,
  type ChannelNotifier,
  type Delivery,
  type Notification,
  type SendOptions,
} from './notification.ts';

export interface PagerDutyNotifierOptions {
  readonly routingKey: string;
  readonly url: string;
  readonly source: string;
  readonly timeoutMs: number;
  readonly fetch?: FetchLike;
}

// Rebound/Prometheus severities → the four PagerDuty knows; an unknown one is sent as `warning`.
const SEVERITY: Record<string, NonNullable<PagerDutyEvent['payload']>['severity']> = {
  critical: 'critical',
  page: 'critical',
  high: 'error',
  error: 'error',
  warning: 'warning',
  medium: 'warning',
  low: 'info',
  info: 'info',
};

/**
 * PagerDuty Events v2 with the incident id as `dedup_key`: `resolved` resolves, `acknowledged` acknowledges,
 * every other move triggers (a repeated trigger with the same key updates the open alert, it does not page
 * twice).
 */
export class PagerDutyNotifier implements ChannelNotifier {
  readonly channel = 'pagerduty' as const;
  readonly #options: PagerDutyNotifierOptions;

  constructor(options: PagerDutyNotifierOptions) {
    this.#options = options;
  }

  /** The Events v2 body for this notification. */
  event(n: Notification): PagerDutyEvent {
    const dedup_key = n.incidentId.slice(0, PAGERDUTY_LIMITS.dedupKey);
    const base = { routing_key: this.#options.routingKey, dedup_key };
    if (n.event === 'resolved') return { ...base, event_action: 'resolve' };
    if (n.event === 'acknowledged') return { ...base, event_action: 'acknowledge' };
    const links = [
      ['Incident', n.links.incident],
      ['Dashboard', n.links.dashboard],
      ['Prometheus', n.links.prometheus],
      ['Runbook', n.links.runbook],
    ]
      .filter((l): l is [string, string] => l[1] !== undefined)
      .map(([text, href]) => ({ href, text }));
    return {
      ...base,
      event_action: 'trigger',
      payload: {
        summary: truncate(`[${severityLabel(n.severity)}] ${n.title}`, PAGERDUTY_LIMITS.summary),
        source: n.service ?? n.cluster ?? this.#options.source,
        severity: SEVERITY[n.severity.toLowerCase()] ?? 'warning',
        ...(n.occurredAt ? { timestamp: n.occurredAt } : {}),
        ...(n.service ? { component: n.service } : {}),
        ...(n.namespace ? { group: n.namespace } : {}),
        ...(n.labels['alertname'] ? { class: n.labels['alertname'] } : {}),
        custom_details: {
          incident: n.incidentId,
          event: n.event,
          ...(n.status ? { status: n.status } : {}),
          ...(n.description ? { description: n.description } : {}),
          ...(n.actions.length ? { actions: n.actions } : {}),
          ...(n.result ? { result: n.result } : {}),
          labels: n.labels,
        },
      },
      ...(links.length ? { links } : {}),
      client: 'Rebound',
      ...(n.links.incident ? { client_url: n.links.incident } : {}),
    };
  }

  preview(n: Notification): WriteRequest {
    return {
      method: 'POST',
      path: '/v2/enqueue',
      contentType: 'application/json',
      body: { ...this.event(n), routing_key: '[redacted]' },
    };
  }

  async send(n: Notification, options: SendOptions = {}): Promise<Delivery> {
    const reference = await enqueuePagerDutyEvent(this.event(n), {
      baseUrl: this.#options.url,
      timeoutMs: this.#options.timeoutMs,
      signal: options.signal,
      fetch: this.#options.fetch,
    });
    return { channel: 'pagerduty', request: this.preview(n), reference };
  }
}
