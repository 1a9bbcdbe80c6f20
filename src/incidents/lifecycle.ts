import { ReboundError } from '../errors.ts';
import type { IncidentStatus } from './model.ts';

/**
 * The incident lifecycle as an explicit state machine; see README.md beside this file for the diagram.
 * Every status change goes through `transition()`, which refuses what the table does not allow.
 */
const ALLOWED: Record<IncidentStatus, readonly IncidentStatus[]> = {
  open: ['acknowledged', 'remediating', 'escalated', 'resolved'],
  acknowledged: ['remediating', 'escalated', 'resolved'],
  remediating: ['verifying', 'escalated', 'resolved', 'acknowledged'],
  verifying: ['resolved', 'escalated', 'remediating'],
  escalated: ['acknowledged', 'remediating', 'resolved'],
  resolved: [],
};

export const INCIDENT_STATUSES = Object.keys(ALLOWED) as IncidentStatus[];

/** True while Rebound itself is working on the incident; it must not auto-resolve underneath a runbook. */
export function isAutomationRunning(status: IncidentStatus): boolean {
  return status === 'remediating' || status === 'verifying';
}

/** True for every status but `resolved`: new alerts with the same correlation key join such an incident. */
export function isOpen(status: IncidentStatus): boolean {
  return status !== 'resolved';
}

export function canTransition(from: IncidentStatus, to: IncidentStatus): boolean {
  return ALLOWED[from].includes(to);
}

/** Returns `to` when the move is legal, otherwise throws ILLEGAL_TRANSITION naming both ends. */
export function transition(from: IncidentStatus, to: IncidentStatus): IncidentStatus {
  if (!canTransition(from, to)) {
    const allowed = ALLOWED[from];
    throw new ReboundError(
      'ILLEGAL_TRANSITION',
      `an incident cannot go from ${from} to ${to}` +
        (allowed.length ? `; from ${from} it may go to ${allowed.join(', ')}` : `; ${from} is final`),
    );
  }
  return to;
}
