import { z } from 'zod';
import { canTransition } from '../../incidents/lifecycle.ts';
import { routeBySeverity } from '../notify/config.ts';
import type { ChannelOutcome } from '../notify/routed.ts';
import type { ActionDefinition } from '../types.ts';
import type { IncidentActionDeps } from './deps.ts';
import { actorOf, describeOutcomes, notificationOf, sendEach } from './message.ts';

export const remediatedParams = z
  .object({
    incidentId: z.string().min(1),
    /** What fixed it, e.g. "verified: alert resolved (webhook) after the rollout restart". */
    summary: z.string().min(1).max(2000),
    /** Count a verified success for the circuit breaker (default); false for a shadow or no-op run. */
    remediationSucceeded: z.boolean().default(true),
  })
  .strict();
export type RemediatedParams = z.infer<typeof remediatedParams>;

export interface RemediatedOutput {
  readonly incidentId: string;
  readonly status: string;
  readonly notifications: readonly ChannelOutcome[];
  readonly breaker?: { readonly scope: string; readonly state: string };
}

/**
 * `incident.remediated`: the closed loop's success. A verified success for the circuit breaker, the
 * incident → `resolved` (`Incident Resolved` event), and the routed channels told: a "Remediated" message,
 * and PagerDuty's alert (if one was triggered) resolved by its dedup_key.
 */
export function remediatedAction(
  deps: IncidentActionDeps,
): ActionDefinition<RemediatedParams, RemediatedOutput> {
  return {
    name: 'incident.remediated',
    description: 'Record a verified remediation: breaker success, incident resolved, channels told',
    mutating: false,
    params: remediatedParams,
    async run(params, ctx) {
      const actor = actorOf(ctx);
      const shadow = deps.isShadow(ctx.runbook);
      const summary = shadow
        ? `${params.summary} (shadow mode: nothing was sent, so the alert resolved without Rebound)`
        : params.summary;
      let { incident } = await deps.incidents.get(params.incidentId);
      if (incident.status !== 'resolved' && canTransition(incident.status, 'resolved')) {
        incident = await deps.incidents.setStatus(incident.id, 'resolved', {
          actor,
          kind: 'status.changed',
          description: `Remediated: ${summary}`,
        });
      }
      const route = routeBySeverity(incident.severity, deps.routing);
      const notification = notificationOf(incident, 'remediated', {
        result: summary,
        publicUrl: deps.publicUrl,
      });
      const notifications = await sendEach(
        deps,
        route.channels.map((channel) => ({
          channel,
          // PagerDuty triggers on `remediated`; what on-call needs is the page closing.
          notification:
            channel === 'pagerduty' ? { ...notification, event: 'resolved' as const } : notification,
        })),
        ctx,
      );
      await deps.incidents.record(incident.id, {
        actor,
        kind: 'notification',
        description: `Remediated: ${describeOutcomes(notifications)}`,
        data: { event: 'remediated', notifications },
      });
      let breaker: RemediatedOutput['breaker'];
      const scope = deps.scopeOf(incident);
      if (params.remediationSucceeded && !shadow && scope) {
        const view = await deps.breaker.recordOutcome(scope, true);
        breaker = { scope: view.scope, state: view.state };
      }
      return {
        output: {
          incidentId: incident.id,
          status: incident.status,
          notifications,
          ...(breaker ? { breaker } : {}),
        },
        writes: [],
      };
    },
  };
}
