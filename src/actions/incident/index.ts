import type { ActionDefinition } from '../types.ts';
import type { IncidentActionDeps } from './deps.ts';
import { escalateAction } from './escalate.ts';
import { noteAction } from './note.ts';
import { incidentNotifyAction } from './notify.ts';
import { remediatedAction } from './remediated.ts';

export type { IncidentActionDeps, IncidentOperations, OutcomeRecorder } from './deps.ts';
export { escalateParams } from './escalate.ts';

/**
 * The `incident.*` actions runbooks use to close the loop: `incident.note` (timeline, remediating /
 * verifying), `incident.notify` (severity-routed message), `incident.remediated` (verified success) and
 * `incident.escalate` (hand over to a human). They change Rebound's own records, not a cluster, so they do
 * not pass guard rails; notification failures never fail them.
 */
export function incidentActions(deps: IncidentActionDeps): ActionDefinition[] {
  const all = [noteAction(deps), incidentNotifyAction(deps), remediatedAction(deps), escalateAction(deps)];
  return all as unknown as ActionDefinition[];
}

/**
 * The breaker scope of an incident's remediation: the Deployment named by its service in its namespace, on
 * the cluster its labels (or the configuration) select; none when the cluster cannot be told.
 */
export function incidentTarget(
  selectCluster: (labels: Readonly<Record<string, string>>) => string,
): IncidentActionDeps['scopeOf'] {
  return (incident) => {
    let cluster: string;
    try {
      cluster = selectCluster(incident.labels);
    } catch {
      return undefined; // a cluster label naming no configured cluster: nothing to count against
    }
    return {
      cluster,
      ...(incident.namespace ? { namespace: incident.namespace } : {}),
      kind: 'Deployment',
      name: incident.service ?? incident.id,
    };
  };
}
