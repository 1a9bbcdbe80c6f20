import { ReboundError, isReboundError } from '../errors.ts';
import type { StoredEvent } from '../events/envelope.ts';
import { moveOf, type LifecycleEvents, type UndeliveredNotification } from './events.ts';
import { transition } from './lifecycle.ts';
import type { Incident, IncidentAlert, IncidentStatus, TimelineEntry, TimelineKind } from './model.ts';
import type { IncidentPage, IncidentQuery, IncidentStore } from './port.ts';

export interface IncidentDetail {
  readonly incident: Incident;
  readonly alerts: IncidentAlert[];
  readonly timeline: TimelineEntry[];
}

export interface TimelineNote {
  readonly actor: string;
  readonly kind: TimelineKind;
  readonly description: string;
  readonly data?: unknown;
  readonly correlationId?: string | null;
}

const MAX_CONFLICT_RETRIES = 5;

/** The operations people and runbooks perform on incidents; each one appends to the timeline. */
export class IncidentService {
  constructor(
    private readonly store: IncidentStore,
    private readonly now: () => Date = () => new Date(),
    /** Announces escalations and resolutions on the event log (in the same commit); none without it. */
    private readonly events?: LifecycleEvents,
  ) {}

  async list(query: IncidentQuery): Promise<IncidentPage> {
    return this.store.listIncidents(query);
  }

  async get(id: string): Promise<IncidentDetail> {
    const incident = await this.require(id);
    const [alerts, timeline] = await Promise.all([this.store.listAlerts(id), this.store.listTimeline(id)]);
    return { incident, alerts, timeline };
  }

  acknowledge(id: string, actor: string, comment?: string): Promise<Incident> {
    return this.setStatus(id, 'acknowledged', {
      actor,
      kind: 'status.changed',
      description: withComment(`Acknowledged by ${actor}`, comment),
    });
  }

  resolve(id: string, actor: string, comment?: string): Promise<Incident> {
    return this.setStatus(id, 'resolved', {
      actor,
      kind: 'status.changed',
      description: withComment(`Resolved by ${actor}`, comment),
    });
  }

  /**
   * Moves the incident through its lifecycle (illegal moves throw ILLEGAL_TRANSITION) and records why. With
   * `unless`, the incident as it is when the change commits is checked first: if it holds, nothing changes
   * and the incident is returned as it is (a decision made on an earlier read cannot overwrite newer facts).
   */
  async setStatus(
    id: string,
    to: IncidentStatus,
    note: TimelineNote,
    unless?: (incident: Incident) => boolean,
  ): Promise<Incident> {
    return this.update(id, (incident, at) => {
      if (unless?.(incident)) return undefined;
      const status = transition(incident.status, to);
      return {
        incident: {
          ...incident,
          status,
          acknowledgedAt: status === 'acknowledged' ? at : incident.acknowledgedAt,
          resolvedAt: status === 'resolved' ? at : incident.resolvedAt,
          escalatedAt: status === 'escalated' ? at : incident.escalatedAt,
        },
        note: { ...note, data: { from: incident.status, to: status, ...(note.data as object | undefined) } },
      };
    });
  }

  /**
   * Appends one entry to the timeline without changing the status (actions, verdicts, notifications). With
   * `undelivered`, the same commit announces each as `Notification Undelivered`, for the bus to send again.
   */
  async record(
    id: string,
    note: TimelineNote,
    undelivered: readonly UndeliveredNotification[] = [],
  ): Promise<void> {
    await this.update(id, (incident) => ({ incident, note }), undelivered);
  }

  private async update(
    id: string,
    change: (incident: Incident, at: string) => { incident: Incident; note: TimelineNote } | undefined,
    undelivered: readonly UndeliveredNotification[] = [],
  ): Promise<Incident> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.require(id);
      const at = this.now().toISOString();
      const changed = change(current, at);
      if (!changed) return current;
      const { incident, note } = changed;
      const next = { ...incident, updatedAt: at, version: current.version + 1 };
      const move = moveOf(current.status, next.status);
      const correlationId = note.correlationId ?? current.correlationId;
      const events: StoredEvent[] = [];
      if (this.events && move)
        events.push(
          this.events.event(move, next, { at, correlationId, reason: note.description, actor: note.actor }),
        );
      for (const item of undelivered) {
        // Resolved meanwhile (its resolve already announced): a late page would reopen it on PagerDuty.
        if (next.status === 'resolved' && item.notification['event'] !== 'resolved') continue;
        if (this.events) events.push(this.events.undelivered(next, item, { at, correlationId }));
      }
      try {
        await this.store.commit([
          {
            incident: next,
            expectedVersion: current.version,
            alerts: [],
            timeline: [
              {
                incidentId: id,
                at,
                actor: note.actor,
                kind: note.kind,
                description: note.description,
                data: note.data ?? null,
                correlationId,
              },
            ],
            ...(events.length > 0 ? { events } : {}),
          },
        ]);
        return next;
      } catch (err) {
        if (isReboundError(err) && err.code === 'CONFLICT' && attempt < MAX_CONFLICT_RETRIES) continue;
        throw err;
      }
    }
  }

  private async require(id: string): Promise<Incident> {
    const incident = await this.store.getIncident(id);
    if (!incident)
      throw new ReboundError('NOT_FOUND', `no incident ${id}; list them with \`rebound incidents list\``);
    return incident;
  }
}

function withComment(text: string, comment: string | undefined): string {
  return comment ? `${text}: ${comment}` : text;
}
