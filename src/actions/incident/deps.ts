import type { UndeliveredNotification } from '../../incidents/events.ts';
import type { Incident, IncidentStatus } from '../../incidents/model.ts';
import type { IncidentDetail, TimelineNote } from '../../incidents/service.ts';
import type { RoutingConfig } from '../notify/config.ts';
import type { ChannelKind, ChannelNotifier } from '../notify/notification.ts';
import type { RetryOptions } from '../notify/retry.ts';
import type { TargetRef } from '../types.ts';
import type { AlertQuery, AlertRecheck } from '../verify/index.ts';

/** What the `incident.*` actions need from the incident stage (IncidentService implements it). */
export interface IncidentOperations {
  /** The incident with its alerts and timeline; NOT_FOUND when unknown. */
  get(id: string): Promise<IncidentDetail>;
  /** Moves the incident through its lifecycle and records why (ILLEGAL_TRANSITION when not allowed). */
  setStatus(
    id: string,
    to: IncidentStatus,
    note: TimelineNote,
    /** Checked on the incident as the change commits: when true, nothing changes. */
    unless?: (incident: Incident) => boolean,
  ): Promise<Incident>;
  /**
   * Appends one timeline entry without changing the status; `undelivered` notifications are announced in
   * the same commit for the bus to send again.
   */
  record(id: string, note: TimelineNote, undelivered?: readonly UndeliveredNotification[]): Promise<void>;
}

/** The circuit breaker's input: verified remediation outcomes (GuardedRunner.recordOutcome). */
export interface OutcomeRecorder {
  /** `executionId`: a failure of an execution already counted (a failed action) is not counted again. */
  recordOutcome(
    scope: string | TargetRef,
    success: boolean,
    executionId?: string,
  ): Promise<{ scope: string; state: string }>;
}

export interface IncidentActionDeps {
  readonly incidents: IncidentOperations;
  /** Configured notification channels (createNotifiers); a missing one is reported, never fatal. */
  readonly notifiers: Partial<Record<ChannelKind, ChannelNotifier>>;
  /** Severity routing: whom an incident's moves are told to. */
  readonly routing: RoutingConfig;
  readonly retry: RetryOptions;
  readonly breaker: OutcomeRecorder;
  /** The breaker scope an incident's remediation counts against (its cluster/namespace), if it has one. */
  readonly scopeOf: (incident: Incident) => TargetRef | undefined;
  /**
   * Whether a runbook's mutating actions run in shadow mode (guard.shadow, or shadow by default): its
   * outcomes then say nothing about remediation and are kept from the circuit breaker.
   */
  readonly isShadow: (runbook: string | undefined) => boolean;
  /** `server.publicUrl`, for links to the incident in messages. */
  readonly publicUrl?: string;
  /**
   * Asks the verification sources (verify.alertmanager, verify.prometheus) once whether an alert has
   * resolved; `incident.remediated` checks the incident's other alerts with it.
   */
  readonly recheck?: (query: AlertQuery, signal: AbortSignal) => Promise<AlertRecheck | undefined>;
}
