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
  ExecutionView as Execution,
  ReplayProgress,
  RuleStats,
  TargetStats,
} from '../../src/http/views.ts';
export type { HistoryEvent } from '../../src/workflows/history.ts';

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

export interface AutomationStatus {
  /** Whether actions are sent (`live`) or only recorded (`shadow`), and why. */
  readonly mode?: { readonly mode: string; readonly reason?: string; readonly message?: string };
  readonly shadow: { readonly global: boolean; readonly runbooks: readonly string[] };
  readonly pauses: readonly {
    readonly id: string;
    readonly match: Readonly<Record<string, string>>;
    readonly reason: string;
    readonly createdAt: string;
    readonly createdBy?: string;
    readonly until?: string;
  }[];
  readonly breakers: readonly {
    readonly scope: string;
    readonly state: 'closed' | 'open';
    readonly successRate?: number;
    readonly outcomes: number;
    readonly openedAt?: string;
    readonly reason?: string;
  }[];
  readonly budgets: readonly {
    readonly target: string;
    readonly used: number;
    readonly limit: number;
    readonly nextSlotAt?: string;
  }[];
  readonly locks: readonly { readonly target: string; readonly owner: string; readonly expiresAt: string }[];
}

export interface DashboardInfo {
  readonly version: string;
  readonly links: { readonly prometheus?: string; readonly alertmanager?: string };
}
