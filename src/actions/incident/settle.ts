import { isAutomationRunning } from '../../incidents/lifecycle.ts';
import type { IncidentActionDeps } from './deps.ts';
import { escalateIncident } from './escalate.ts';

/** An incident whose runbook has ended, however it ended. */
export interface RunbookEnded {
  readonly incidentId: string;
  /** How it ended, for the timeline and the page: "runbook bad-deploy ended FAILED: States.Timeout". */
  readonly ending: string;
  /** The execution, when known: the escalation's idempotency key and the timeline's link. */
  readonly executionId?: string | undefined;
  readonly runbook?: string | undefined;
  readonly correlationId?: string | undefined;
}

/**
 * Settles an incident its runbook has let go of. While a runbook works on an incident (`remediating`,
 * `verifying`) its alerts resolving do not resolve it, and a runbook normally ends by resolving it
 * (`incident.remediated`) or handing it to a human (`incident.escalate`). One that ends otherwise — stopped
 * by an operator, failed on an error no Catch handled, timed out — or whose alerts all resolved meanwhile
 * would leave the incident in that state for good: no later alert event would move it.
 *
 * - every alert resolved → `resolved` (what the alerts resolving would have done without the runbook);
 * - still `remediating`/`verifying` with alerts firing → escalated to on-call, like `incident.escalate`;
 * - otherwise (resolved, escalated or acknowledged with alerts firing) it is left as it is.
 *
 * Returns what it did, for the log.
 */
export async function settleAfterRunbook(
  deps: IncidentActionDeps,
  ended: RunbookEnded,
  context: { readonly signal: AbortSignal; readonly now: () => Date },
): Promise<'resolved' | 'escalated' | 'unchanged'> {
  const { incident } = await deps.incidents.get(ended.incidentId);
  if (incident.status === 'resolved') return 'unchanged';
  if (incident.alertCount > 0 && incident.firingCount === 0) {
    const after = await deps.incidents.setStatus(
      incident.id,
      'resolved',
      {
        actor: 'rebound',
        kind: 'status.changed',
        description: `All ${incident.alertCount} alert(s) resolved and ${ended.ending}: ${incident.status} → resolved`,
        ...(ended.executionId ? { data: { executionId: ended.executionId } } : {}),
        correlationId: ended.correlationId ?? null,
      },
      // An alert that fired again since the read above keeps it open.
      (now) => now.firingCount > 0 || now.status === 'resolved',
    );
    if (after.status === 'resolved') return 'resolved';
    return settleAfterRunbook(deps, ended, context); // fired again meanwhile: decide again on what is now
  }
  if (!isAutomationRunning(incident.status)) return 'unchanged';
  await escalateIncident(
    deps,
    {
      incidentId: incident.id,
      reason: `${ended.ending}, leaving the incident ${incident.status} with ${incident.firingCount} alert(s) firing`,
      // Not a verified outcome of a remediation: the runbook did not get that far.
      remediationFailed: false,
    },
    {
      idempotencyKey: `${ended.executionId ?? incident.id}/settle`,
      shadow: false,
      incidentId: incident.id,
      ...(ended.runbook ? { runbook: ended.runbook } : {}),
      ...(ended.executionId ? { executionId: ended.executionId } : {}),
      ...(ended.correlationId ? { correlationId: ended.correlationId } : {}),
      ...context,
    },
  );
  return 'escalated';
}
