import type { StoredEvent } from '../events/envelope.ts';
import type { Incident, IncidentAlert, IncidentStatus, TimelineEntry } from './model.ts';

/** One atomic change to an incident: on DynamoDB a TransactWriteItems with a condition on `version`. */
export interface IncidentChange {
  /** The incident after the change; `version` is the new version. */
  readonly incident: Incident;
  /** The version the change was computed from (0 for a new incident); a mismatch aborts it with CONFLICT. */
  readonly expectedVersion: number;
  readonly alerts: readonly IncidentAlert[];
  /** New timeline entries; their `seq` continue the incident's timeline. */
  readonly timeline: readonly Omit<TimelineEntry, 'seq'>[];
  /** Ids of the events this change applies; recorded so a re-delivered event is recognised. */
  readonly eventIds?: readonly string[];
  /** Lifecycle events (Incident Opened / Escalated / Resolved) appended to the event log in the same commit. */
  readonly events?: readonly StoredEvent[];
}

export interface IncidentQuery {
  readonly status?: readonly IncidentStatus[];
  readonly service?: string;
  /** ISO-8601 bounds on `openedAt` (from inclusive, to exclusive). */
  readonly from?: string;
  readonly to?: string;
  readonly cursor?: string;
  readonly limit: number;
}

export interface IncidentPage {
  readonly items: Incident[];
  readonly nextCursor?: string;
}

/** What the incident stage needs from storage. Every access is by key or by (partition, sort range). */
export interface IncidentStore {
  /** Returns the open (not resolved) incident with this correlation key, if any. */
  findOpenByKey(correlationKey: string): Promise<Incident | undefined>;
  /** Returns the most recently opened resolved incident with this key that still shows this alert firing. */
  findResolvedShowingFiring(correlationKey: string, fingerprint: string): Promise<Incident | undefined>;
  /** Returns which of these event ids have already been applied to some incident. */
  appliedEvents(eventIds: readonly string[]): Promise<Set<string>>;
  /** Returns an incident by id. */
  getIncident(id: string): Promise<Incident | undefined>;
  /** Lists incidents newest first (by openedAt), filtered by status / service / time. */
  listIncidents(query: IncidentQuery): Promise<IncidentPage>;
  /** Returns one alert of an incident by fingerprint. */
  getAlert(incidentId: string, fingerprint: string): Promise<IncidentAlert | undefined>;
  /** Returns the alerts correlated into an incident. */
  listAlerts(incidentId: string): Promise<IncidentAlert[]>;
  /** Returns an incident's timeline in order. */
  listTimeline(incidentId: string): Promise<TimelineEntry[]>;
  /** Applies the changes atomically, all or none; throws CONFLICT on a version mismatch. */
  commit(changes: readonly IncidentChange[]): Promise<void>;
  /** Counts incidents that are not resolved. */
  countOpen(): Promise<number>;
  /**
   * Deletes resolved incidents (with alerts and timeline) resolved before the cutoff; returns the count.
   * Stops between chunks once `signal` aborts (shutdown).
   */
  deleteResolvedBefore(cutoff: string, signal?: AbortSignal): Promise<number>;
}
