import { ulid } from 'ulid';
import type { StoredEvent } from '../events/envelope.ts';
import { ALERT_DETAIL_TYPE } from '../events/envelope.ts';
import type { AlertDetail } from '../ingest/alertmanager/normalise.ts';
import type { IncidentsConfig } from './config.ts';
import { correlationKey } from './correlate.ts';
import type { IncidentEventDetail, LifecycleEvents, LifecycleFacts, LifecycleMove } from './events.ts';
import { isAutomationRunning } from './lifecycle.ts';
import {
  maxSeverity,
  normaliseSeverity,
  type Incident,
  type IncidentAlert,
  type TimelineEntry,
} from './model.ts';
import type { IncidentChange, IncidentStore } from './port.ts';

type NewEntry = Omit<TimelineEntry, 'seq'>;

interface Working {
  incident: Incident;
  readonly expectedVersion: number;
  readonly alerts: Map<string, IncidentAlert>;
  readonly changedAlerts: Set<string>;
  readonly timeline: NewEntry[];
  readonly eventIds: string[];
  /** Lifecycle moves to announce, with the incident as it was at that move. */
  readonly moves: { move: LifecycleMove; incident: Incident; facts: LifecycleFacts }[];
}

export interface ProjectorOptions {
  readonly newId?: () => string;
  /** Builds lifecycle events; without it no events are announced. */
  readonly events?: LifecycleEvents;
  /** Extra facts for `Incident Opened` (the runbook routing decision), from the opening alert. */
  readonly onOpen?: (
    incident: Incident,
    labels: Readonly<Record<string, string>>,
  ) => Partial<IncidentEventDetail>;
}

/** Something that happened to an incident as a result of alert events, for metrics and listeners. */
export interface ProjectionResult {
  readonly changes: IncidentChange[];
  readonly opened: number;
  readonly resolved: number;
}

/**
 * Turns alert events into incident changes: correlation, alert status, timeline and auto-resolution.
 * Works on a batch in memory and returns the changes for one atomic commit; pure but for the reads.
 * Idempotent on the event id: an event already applied to an alert is skipped. Replayed events (with a
 * `replay-name`) update open incidents but never open one.
 */
export class IncidentProjector {
  private readonly newId: () => string;

  constructor(
    private readonly store: IncidentStore,
    private readonly config: IncidentsConfig,
    private readonly options: ProjectorOptions = {},
  ) {
    this.newId = options.newId ?? (() => `inc_${ulid()}`);
  }

  async project(events: readonly StoredEvent[]): Promise<ProjectionResult> {
    const byKey = new Map<string, Working>();
    /** Keys whose incident this batch resolved: the store still holds it open until the batch commits. */
    const closed = new Set<string>();
    /** Resolved incidents this batch loaded to resolve an alert they still showed firing, by id. */
    const settledById = new Map<string, Working>();
    const all: Working[] = [];
    let opened = 0;
    let resolved = 0;
    const alertEvents = events.filter((e) => e.envelope['detail-type'] === ALERT_DETAIL_TYPE);
    const applied = await this.store.appliedEvents(alertEvents.map((e) => e.envelope.id));
    for (const event of alertEvents) {
      if (applied.has(event.envelope.id)) continue;
      const detail = event.envelope.detail as AlertDetail;
      const { key, keyLabels } = correlationKey(detail.labels, detail.fingerprint, this.config.correlation);
      let work = byKey.get(key) ?? (closed.has(key) ? undefined : await this.load(key));
      if (work) await this.loadAlert(work, detail.fingerprint);
      if (detail.status === 'resolved' && !work?.alerts.has(detail.fingerprint)) {
        // Its incident was resolved before the alert was (by hand, or by a runbook that verified the fix),
        // and maybe another opened since with the key: the alert resolves where it fired, so the record does
        // not show it firing forever. That incident stays resolved, and takes no firing alert.
        const settled = await this.loadResolvedHolding(key, detail.fingerprint, settledById);
        if (settled) {
          if (!all.includes(settled)) all.push(settled);
          this.applyAlert(settled, detail, event);
          settled.eventIds.push(event.envelope.id);
          continue;
        }
      }
      if (!work) {
        if (detail.status !== 'firing') continue; // nothing open to resolve
        // A replay re-delivers history: it updates incidents still open but never opens one. An incident
        // opened from an archived alert (one whose incident was resolved and purged since, say) would page
        // and start runbooks now, for a problem that may have ended days ago.
        if (event.envelope['replay-name'] !== undefined) continue;
        work = this.open(key, keyLabels, detail, event);
        opened += 1;
        all.push(work);
      } else if (!all.includes(work)) {
        all.push(work);
      }
      byKey.set(key, work);
      this.applyAlert(work, detail, event);
      work.eventIds.push(event.envelope.id);
      if (this.maybeAutoResolve(work, event)) {
        resolved += 1;
        byKey.delete(key); // a later firing alert with this key opens a new incident
        closed.add(key);
      }
    }
    const changes = all
      .filter((w) => w.timeline.length > 0 || w.changedAlerts.size > 0)
      .map((w) => {
        const version = w.expectedVersion + 1;
        const events = this.options.events;
        return {
          incident: { ...w.incident, version },
          expectedVersion: w.expectedVersion,
          alerts: [...w.changedAlerts].map((fp) => w.alerts.get(fp)!),
          timeline: w.timeline,
          eventIds: w.eventIds,
          ...(events && w.moves.length > 0
            ? { events: w.moves.map((m) => events.event(m.move, { ...m.incident, version }, m.facts)) }
            : {}),
        };
      });
    return { changes, opened, resolved };
  }

  private async load(key: string): Promise<Working | undefined> {
    const incident = await this.store.findOpenByKey(key);
    return incident && working(incident);
  }

  /** Reads the incident's stored alert with this fingerprint into the working copy, if it has one. */
  private async loadAlert(work: Working, fingerprint: string): Promise<void> {
    if (work.alerts.has(fingerprint) || work.expectedVersion === 0) return;
    const stored = await this.store.getAlert(work.incident.id, fingerprint);
    if (stored) work.alerts.set(stored.fingerprint, stored);
  }

  /**
   * The newest resolved incident with this key that shows this alert firing. `settled` keeps the copies this
   * batch loaded, so alerts of one incident update one working copy.
   */
  private async loadResolvedHolding(
    key: string,
    fingerprint: string,
    settled: Map<string, Working>,
  ): Promise<Working | undefined> {
    const incident = await this.store.findResolvedShowingFiring(key, fingerprint);
    if (!incident) return undefined;
    let work = settled.get(incident.id);
    if (!work) {
      work = working(incident);
      settled.set(incident.id, work);
    }
    await this.loadAlert(work, fingerprint);
    return work.alerts.get(fingerprint)?.status === 'firing' ? work : undefined;
  }

  private open(
    key: string,
    keyLabels: Record<string, string>,
    detail: AlertDetail,
    event: StoredEvent,
  ): Working {
    const at = event.envelope.time;
    const labels = detail.labels;
    const incident: Incident = {
      id: this.newId(),
      status: 'open',
      title: detail.annotations['summary'] ?? labels['alertname'] ?? 'alert',
      severity: normaliseSeverity(labels['severity']),
      correlationKey: key,
      labels: keyLabels,
      service: labels['service'] ?? labels['app'] ?? labels['job'] ?? null,
      namespace: labels['namespace'] ?? null,
      cluster: labels['cluster'] ?? null,
      openedAt: at,
      updatedAt: at,
      acknowledgedAt: null,
      resolvedAt: null,
      escalatedAt: null,
      alertCount: 0,
      firingCount: 0,
      correlationId: event.correlationId,
      version: 0,
    };
    const work: Working = {
      incident,
      expectedVersion: 0,
      alerts: new Map(),
      changedAlerts: new Set(),
      timeline: [],
      eventIds: [],
      moves: [],
    };
    work.moves.push({
      move: 'opened',
      incident,
      facts: {
        at,
        correlationId: event.correlationId,
        labels,
        summary: incident.title,
        ...(this.options.onOpen ? { extra: this.options.onOpen(incident, labels) } : {}),
      },
    });
    work.timeline.push({
      incidentId: incident.id,
      at,
      actor: 'alertmanager',
      kind: 'incident.opened',
      description: `Incident opened by ${labels['alertname'] ?? 'an alert'} (${incident.severity}): ${incident.title}`,
      data: { correlationKey: key, eventId: event.envelope.id },
      correlationId: event.correlationId,
    });
    return work;
  }

  private applyAlert(work: Working, detail: AlertDetail, event: StoredEvent): void {
    const previous = work.alerts.get(detail.fingerprint);
    if (previous && previous.status === detail.status && previous.startsAt === detail.startsAt) return;
    const at = event.envelope.time;
    const alertname = detail.labels['alertname'] ?? detail.fingerprint;
    work.alerts.set(detail.fingerprint, {
      incidentId: work.incident.id,
      fingerprint: detail.fingerprint,
      alertname,
      status: detail.status,
      labels: detail.labels,
      annotations: detail.annotations,
      startsAt: detail.startsAt,
      endsAt: detail.endsAt,
      generatorURL: detail.generatorURL,
      lastEventId: event.envelope.id,
      updatedAt: at,
    });
    work.changedAlerts.add(detail.fingerprint);
    const kind = !previous
      ? 'alert.attached'
      : detail.status === 'resolved'
        ? 'alert.resolved'
        : 'alert.firing';
    const verb = {
      'alert.attached': `attached (${detail.status})`,
      'alert.resolved': 'resolved',
      'alert.firing': 'firing again',
    }[kind];
    work.timeline.push({
      incidentId: work.incident.id,
      at,
      actor: 'alertmanager',
      kind,
      description: `Alert ${alertname} ${describeLabels(detail.labels)} ${verb}`,
      data: {
        fingerprint: detail.fingerprint,
        status: detail.status,
        startsAt: detail.startsAt,
        eventId: event.envelope.id,
      },
      correlationId: event.correlationId,
    });
    // Counts are kept incrementally: an incident may gather thousands of alerts.
    const wasFiring = previous?.status === 'firing' ? 1 : 0;
    const isFiring = detail.status === 'firing' ? 1 : 0;
    const incident = work.incident;
    work.incident = {
      ...incident,
      updatedAt: at,
      alertCount: incident.alertCount + (previous ? 0 : 1),
      firingCount: incident.firingCount + isFiring - wasFiring,
      // The severity is the highest any of its alerts reached while firing.
      severity: isFiring
        ? maxSeverity(incident.severity, normaliseSeverity(detail.labels['severity']))
        : incident.severity,
    };
  }

  private maybeAutoResolve(work: Working, event: StoredEvent): boolean {
    const incident = work.incident;
    if (incident.firingCount > 0 || incident.alertCount === 0 || isAutomationRunning(incident.status))
      return false;
    if (incident.status === 'resolved') return false;
    const at = event.envelope.time;
    work.incident = { ...incident, status: 'resolved', resolvedAt: at, updatedAt: at };
    work.moves.push({
      move: 'resolved',
      incident: work.incident,
      facts: { at, correlationId: event.correlationId, reason: 'all alerts resolved', actor: 'rebound' },
    });
    work.timeline.push({
      incidentId: incident.id,
      at,
      actor: 'rebound',
      kind: 'status.changed',
      description: `All ${incident.alertCount} alert(s) resolved and no automation running: ${incident.status} → resolved`,
      data: { from: incident.status, to: 'resolved' },
      correlationId: event.correlationId,
    });
    return true;
  }
}

function describeLabels(labels: Readonly<Record<string, string>>): string {
  const shown = Object.entries(labels)
    .filter(([k]) => k !== 'alertname')
    .map(([k, v]) => `${k}=${v}`);
  return shown.length ? `{${shown.join(', ')}}` : '';
}

/** A loaded incident, ready to take changes. */
function working(incident: Incident): Working {
  return {
    incident,
    expectedVersion: incident.version,
    alerts: new Map(),
    changedAlerts: new Set(),
    timeline: [],
    eventIds: [],
    moves: [],
  };
}
