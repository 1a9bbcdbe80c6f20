import { api, qs } from './api.ts';
import { useResource } from './components/ui.tsx';
import { useLive } from './live.ts';
import type { Approval, AutomationStatus, Execution, Incident, IncidentStatus } from './types.ts';

/**
 * What Rebound is doing about incidents, read from three lists shared by every row (never one request per
 * incident): approvals waiting for a human, running executions, and the automation state. A runbook that a
 * rule starts for an incident carries the incident's correlation id (its opening alert's), which is how a
 * running execution is matched to its incident; one started by hand without it is not seen here.
 */
export interface Activity {
  /** Pending approvals, by incident id. */
  readonly approvals: ReadonlyMap<string, Approval>;
  /** Names of the runbooks running, by correlation id. */
  readonly running: ReadonlyMap<string, readonly string[]>;
  readonly shadow: AutomationStatus['shadow'];
  /** The reason of a pause of all automation (no matchers), when one is in force. */
  readonly pausedAll: string | undefined;
}

// The API's largest page: running executions and pending approvals are few, so one page holds them.
const LIMIT = 1000;

async function loadActivity(): Promise<Activity> {
  const [approvals, executions, automation] = await Promise.all([
    api<{ items: Approval[] }>('GET', `/v1/approvals${qs({ status: 'pending', limit: LIMIT })}`),
    api<{ items: Execution[] }>('GET', `/v1/executions${qs({ status: 'RUNNING', limit: LIMIT })}`),
    api<AutomationStatus>('GET', '/v1/automation'),
  ]);
  const running = new Map<string, string[]>();
  for (const e of executions.items) {
    if (!e.correlationId) continue;
    const names = running.get(e.correlationId) ?? [];
    if (!names.includes(e.workflow)) running.set(e.correlationId, [...names, e.workflow]);
  }
  const pausedAll = automation.pauses.find((p) => Object.keys(p.match).length === 0);
  return {
    approvals: new Map(approvals.items.flatMap((a) => (a.incidentId ? [[a.incidentId, a] as const] : []))),
    running,
    shadow: automation.shadow,
    pausedAll: pausedAll === undefined ? undefined : pausedAll.reason || 'no reason given',
  };
}

/** The activity behind `doing()`, re-read when an execution or approval changes; undefined until loaded. */
export function useActivity(): Activity | undefined {
  const activity = useResource(loadActivity, []);
  useLive(['execution', 'approval'], () => activity.reload());
  return activity.data;
}

/** What Rebound is doing about an incident, in words: from its status, and from `activity` when known. */
export function doing(incident: Incident, activity?: Activity): string {
  // A resolved incident has nothing left running for it, and a pause no longer concerns it.
  if (incident.status === 'resolved') return byStatus(incident.status, undefined, true);
  const approval = activity?.approvals.get(incident.id);
  const names = activity?.running.get(incident.correlationId) ?? [];
  const shadowed = names.some((n) => activity?.shadow.global || activity?.shadow.runbooks.includes(n));
  const runbook =
    names.length === 0 ? undefined : `runbook ${names.join(', ')}${shadowed ? ' (shadow mode)' : ''}`;
  const now = approval
    ? `waiting for approval to run ${approval.runbook}`
    : byStatus(incident.status, runbook, activity !== undefined);
  return activity?.pausedAll === undefined ? now : `${now} · automation paused: ${activity.pausedAll}`;
}

/** `runbook` names what runs for the incident; `known` says whether the activity was read at all. */
function byStatus(status: IncidentStatus, runbook: string | undefined, known: boolean): string {
  switch (status) {
    case 'open':
      return runbook ? `running ${runbook}` : known ? 'no runbook running' : 'routing to a runbook';
    case 'acknowledged':
      return runbook ? `a person is on it; ${runbook} running` : 'a person is on it';
    case 'remediating':
      return `${runbook ?? 'runbook'} remediating`;
    case 'verifying':
      return runbook ? `${runbook} verifying the fix` : 'verifying the fix';
    case 'escalated':
      return runbook ? `paged a human; ${runbook} running` : 'paged a human';
    case 'resolved':
      return 'nothing: resolved';
  }
}
