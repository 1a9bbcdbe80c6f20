/** The incident model: one of the contracts that never change between footprints. */

export type Severity = 'critical' | 'warning' | 'info';

export type IncidentStatus = 'open' | 'acknowledged' | 'remediating' | 'verifying' | 'escalated' | 'resolved';

export interface Incident {
  readonly id: string;
  readonly status: IncidentStatus;
  readonly title: string;
  readonly severity: Severity;
  readonly correlationKey: string;
  /** The labels that formed the correlation key (alertname, namespace, service, cluster…). */
  readonly labels: Readonly<Record<string, string>>;
  readonly service: string | null;
  readonly namespace: string | null;
  readonly cluster: string | null;
  readonly openedAt: string;
  readonly updatedAt: string;
  readonly acknowledgedAt: string | null;
  readonly resolvedAt: string | null;
  readonly escalatedAt: string | null;
  readonly alertCount: number;
  readonly firingCount: number;
  /** The correlation id of the event that opened the incident. */
  readonly correlationId: string;
  /** Optimistic-concurrency version; bumped on every change. */
  readonly version: number;
}

export type AlertStatus = 'firing' | 'resolved';

export interface IncidentAlert {
  readonly incidentId: string;
  readonly fingerprint: string;
  readonly alertname: string;
  readonly status: AlertStatus;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly generatorURL: string;
  readonly lastEventId: string;
  readonly updatedAt: string;
}

export type TimelineKind =
  | 'incident.opened'
  | 'alert.attached'
  | 'alert.firing'
  | 'alert.resolved'
  | 'status.changed'
  | 'comment'
  | 'guard.verdict'
  | 'action'
  | 'execution'
  | 'notification';

export interface TimelineEntry {
  readonly incidentId: string;
  /** Position in the incident's timeline, from 1; append-only. */
  readonly seq: number;
  readonly at: string;
  /** Who did it: `rebound`, `alertmanager`, `user:<name>`, `runbook:<execution>`. */
  readonly actor: string;
  readonly kind: TimelineKind;
  readonly description: string;
  readonly data: unknown;
  readonly correlationId: string | null;
}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/** Maps the free-form `severity` label to the three levels routing understands. */
export function normaliseSeverity(label: string | undefined): Severity {
  switch ((label ?? '').toLowerCase()) {
    case 'critical':
    case 'page':
    case 'high':
    case 'error':
      return 'critical';
    case 'warning':
    case 'warn':
    case 'medium':
      return 'warning';
    default:
      return 'info';
  }
}

export function maxSeverity(a: Severity, b: Severity): Severity {
  return SEVERITY_RANK[a] >= SEVERITY_RANK[b] ? a : b;
}
