/**
 * Approvals: a runbook asks a human before it acts (`rebound:approval.request.waitForTaskToken`). The
 * execution waits on its task token; whoever decides first — in Slack, the REST API, the CLI or the
 * dashboard — resumes it. No answer by `expiresAt` fails the task with `Approval.TimedOut`.
 *
 *   pending ──decide──▶ decided   (decision remediate | skip | snooze; the task succeeds with it)
 *      └────expiry────▶ expired   (the task fails with Approval.TimedOut; or the execution no longer waits)
 */

export const APPROVAL_STATUSES = ['pending', 'decided', 'expired'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

export const DECISIONS = ['remediate', 'skip', 'snooze'] as const;
export type Decision = (typeof DECISIONS)[number];

/** The front doors a decision can come through; `timeout` is the expiry sweep. */
export const VIA = ['slack', 'api', 'cli', 'dashboard', 'timeout'] as const;
export type Via = (typeof VIA)[number];

/** The error a timed-out approval fails its task with; runbooks Catch it and escalate. */
export const APPROVAL_TIMED_OUT = 'Approval.TimedOut';

/** How long a snooze asks the runbook to wait before asking again (the Slack button says "10m"). */
export const DEFAULT_SNOOZE_SECONDS = 600;

/** An approval as the REST API, CLI and dashboard show it. The task token never leaves the server. */
export interface Approval {
  readonly id: string;
  readonly executionId: string;
  readonly incidentId: string | null;
  readonly runbook: string;
  readonly summary: string;
  readonly status: ApprovalStatus;
  /** What happens when nobody answers in time (informational; the runbook's Catch decides). */
  readonly onTimeout: string;
  readonly decision?: Decision;
  readonly decidedBy?: string;
  readonly via?: Via;
  readonly snoozeSeconds?: number;
  /** Why an approval was closed without a decision reaching the execution. */
  readonly reason?: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly decidedAt?: string;
}

/** What the execution resumes with (the task's output). */
export interface DecisionOutput {
  readonly decision: Decision;
  readonly decidedBy: string;
  readonly via: Via;
  readonly snoozeSeconds?: number;
}

/** A stored approval: the public view plus what only the server needs. */
export interface ApprovalRecord extends Approval {
  readonly taskToken: string;
  /** Set once the decision (or the time-out) reached the engine, or nothing was left to deliver. */
  readonly delivered: boolean;
  /** Set once the approval request reached Slack (a restart re-posts one that never did). */
  readonly notifiedAt?: string;
}

/** Strips server-only fields. */
export function publicView(record: ApprovalRecord): Approval {
  const { taskToken: _token, delivered: _delivered, notifiedAt: _notified, ...view } = record;
  return view;
}

export function isDecision(value: string): value is Decision {
  return (DECISIONS as readonly string[]).includes(value);
}
