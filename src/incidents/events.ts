import type { StoredEvent } from '../events/envelope.ts';
import { timeOrderedUuid } from '../events/ids.ts';
import type { Incident } from './model.ts';

/**
 * Incident lifecycle events: when an incident opens, is acknowledged, is escalated or resolves, an EventBridge event is
 * appended to the event log in the same commit as the incident change, so bus rules can react to it (the
 * shipped rules start a runbook on `Incident Opened`) and nothing is announced that was not stored.
 */

export const INCIDENT_SOURCE = 'rebound.incidents';

export const INCIDENT_DETAIL_TYPES = {
  opened: 'Incident Opened',
  acknowledged: 'Incident Acknowledged',
  escalated: 'Incident Escalated',
  resolved: 'Incident Resolved',
} as const;

export type LifecycleMove = keyof typeof INCIDENT_DETAIL_TYPES;

/**
 * A notification about an incident that a channel refused with a retryable failure after the sender's own
 * attempts (a Slack or PagerDuty outage of a few seconds). The default follow-up rule of that channel sends
 * it again under the bus's retry policy, in order with the incident's later follow-ups (same target).
 */
export const NOTIFICATION_UNDELIVERED = 'Notification Undelivered';

export interface UndeliveredNotification {
  readonly channel: string;
  /** The notification as the channel's notifier takes it (JSON). */
  readonly notification: Readonly<Record<string, unknown>>;
  readonly error: string;
}

/** What a lifecycle event says about the incident (`detail`). */
export interface IncidentEventDetail {
  readonly incidentId: string;
  readonly status: Incident['status'];
  readonly severity: Incident['severity'];
  readonly service: string | null;
  readonly namespace: string | null;
  readonly cluster: string | null;
  /** The labels of the alert that opened the incident (all of them, not only the correlation labels). */
  readonly labels: Readonly<Record<string, string>>;
  readonly alertname: string | null;
  readonly summary: string;
  readonly correlationId: string;
  /** Why it moved, when a person or a runbook moved it (escalation reason, resolve comment). */
  readonly reason?: string;
  /** Who moved it, as on the timeline: `rebound`, `user:<name>`, `runbook:<name>`. */
  readonly actor?: string;
  /** When the incident was handed to humans, if it ever was: rules match it to follow up on a page. */
  readonly escalatedAt?: string;
  /** Set on `Incident Opened`: what the runbook routing decided (see runbook-routing.ts). */
  readonly runbook?: string;
  readonly remediate?: boolean;
  readonly requiresApproval?: boolean;
  readonly channels?: readonly string[];
  readonly parameters?: Readonly<Record<string, unknown>>;
}

export interface LifecycleEventOptions {
  readonly account: string;
  readonly region: string;
}

/** The facts a lifecycle event carries beyond the incident itself. */
export interface LifecycleFacts {
  readonly at: string;
  readonly correlationId: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly summary?: string;
  readonly reason?: string;
  readonly actor?: string;
  /** Extra detail fields (runbook routing on open). */
  readonly extra?: Partial<IncidentEventDetail>;
}

/** Builds lifecycle events; the envelope's account and region are those ingest stamps on alerts. */
export class LifecycleEvents {
  constructor(private readonly options: LifecycleEventOptions) {}

  /** The event for one move of an incident; its dedup key makes a re-applied change append nothing. */
  event(move: LifecycleMove, incident: Incident, facts: LifecycleFacts): StoredEvent {
    const labels = facts.labels ?? incident.labels;
    const detail: IncidentEventDetail = {
      incidentId: incident.id,
      status: incident.status,
      severity: incident.severity,
      service: incident.service,
      namespace: incident.namespace,
      cluster: incident.cluster,
      labels,
      alertname: labels['alertname'] ?? null,
      summary: facts.summary ?? incident.title,
      correlationId: facts.correlationId,
      ...(facts.reason === undefined ? {} : { reason: facts.reason }),
      ...(facts.actor === undefined ? {} : { actor: facts.actor }),
      ...(incident.escalatedAt === null ? {} : { escalatedAt: incident.escalatedAt }),
      ...facts.extra,
    };
    // One event per move and incident version: a retried commit of the same change cannot announce twice.
    return this.stored(INCIDENT_DETAIL_TYPES[move], incident, detail, facts, move);
  }

  /** The `Notification Undelivered` event of one notification (see NOTIFICATION_UNDELIVERED). */
  undelivered(
    incident: Incident,
    item: UndeliveredNotification,
    facts: { readonly at: string; readonly correlationId: string },
  ): StoredEvent {
    const detail = {
      incidentId: incident.id,
      channel: item.channel,
      error: item.error,
      notification: item.notification,
    };
    return this.stored(NOTIFICATION_UNDELIVERED, incident, detail, facts, `undelivered:${item.channel}`);
  }

  /** An event about `incident`, deduplicated by `what` at the incident's version. */
  private stored(
    detailType: string,
    incident: Incident,
    detail: object,
    facts: { readonly at: string; readonly correlationId: string },
    what: string,
  ): StoredEvent {
    return {
      envelope: {
        version: '0',
        id: timeOrderedUuid(Date.parse(facts.at) || Date.now()),
        'detail-type': detailType,
        source: INCIDENT_SOURCE,
        account: this.options.account,
        time: facts.at,
        region: this.options.region,
        resources: [`rebound:incident/${incident.id}`],
        detail: detail as Record<string, unknown>,
      },
      correlationId: facts.correlationId,
      dedupKey: `incident:${incident.id}:${what}:v${incident.version}`,
      receivedAt: facts.at,
    };
  }
}

/** The lifecycle move a status change announces, if any (`opened` is announced by the projector). */
export function moveOf(from: Incident['status'], to: Incident['status']): LifecycleMove | undefined {
  if (from === to) return undefined;
  if (to === 'acknowledged') return 'acknowledged';
  if (to === 'escalated') return 'escalated';
  if (to === 'resolved') return 'resolved';
  return undefined;
}
