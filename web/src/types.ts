/**
 * The API's shapes. Incident, approval and analytics types come straight from the server's model files, and
 * the REST views from `src/http/views.ts` (type imports only: nothing of the server is bundled); the rest
 * mirror views the server builds inline.
 */
export type {
  Incident,
  IncidentAlert,
  IncidentStatus,
  Severity,
  TimelineEntry,
} from '../../src/incidents/model.ts';
export type { Approval } from '../../src/approvals/model.ts';
export type { AnalyticsReport, Effectiveness, Series } from '../../src/incidents/analytics.ts';
export type {
  ExecutionStatus,
  BusStats,
  ExecutionView as Execution,
  ReplayProgress,
  RuleStats,
  TargetStats,
} from '../../src/http/views.ts';
export type { HistoryEvent } from '../../src/workflows/history.ts';
export type { AutomationView as AutomationStatus } from '../../src/guard/views.ts';

/** The parts of an ASL definition the graph draws. */
export interface AslState {
  readonly Type: string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Default?: string;
  readonly Choices?: readonly { readonly Next: string }[];
  readonly Catch?: readonly { readonly Next: string; readonly ErrorEquals: readonly string[] }[];
  readonly Resource?: string;
  readonly Comment?: string;
  /** Parallel: state lists run side by side. */
  readonly Branches?: readonly AslDefinition[];
  /** Map: the state list run for each item (`Iterator` is its older name). */
  readonly ItemProcessor?: AslDefinition;
  readonly Iterator?: AslDefinition;
  /** Fail: what it fails with, when written literally. */
  readonly Error?: string;
  readonly Cause?: string;
}

export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Readonly<Record<string, AslState>>;
  readonly Comment?: string;
}

export interface DeadLetter {
  readonly id: number;
  readonly eventId: string;
  readonly target: string;
  readonly rule: string;
  readonly attempts: number;
  readonly error: string;
  readonly failedAt: string;
  readonly event: { readonly envelope: { readonly 'detail-type': string; readonly source: string } } | null;
}

/** An archived event as `GET /v1/events` returns it. */
export interface ArchivedEvent {
  readonly envelope: {
    readonly id: string;
    readonly time: string;
    readonly source: string;
    readonly 'detail-type': string;
    readonly resources: readonly string[];
    readonly detail: unknown;
    readonly 'replay-name'?: string;
  };
  readonly correlationId: string;
  readonly receivedAt: string;
}

export interface DashboardInfo {
  readonly version: string;
  readonly links: { readonly prometheus?: string; readonly alertmanager?: string };
}
