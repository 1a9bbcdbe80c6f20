import { z } from 'zod';
import { canTransition } from '../../incidents/lifecycle.ts';
import { truncate } from '../../integrations/text.ts';
import type { ChannelOutcome } from '../notify/routed.ts';
import type { ActionContext, ActionDefinition, ActionResult } from '../types.ts';
import type { IncidentActionDeps } from './deps.ts';
import { actorOf, describeOutcomes, notificationOf, notifyAndRecord } from './message.ts';

export const escalateParams = z
  .object({
    incidentId: z.string().min(1),
    /** Why a human is needed, in one sentence; it heads the page and the Slack message. */
    reason: z
      .string()
      .min(1)
      .transform((r) => truncate(r, 2000)),
    /** Overrides the incident's severity on the page (critical, error, warning, info). */
    severity: z.string().min(1).max(64).optional(),
    /**
     * Count this escalation as a failed remediation for the circuit breaker (default). Runbooks pass false
     * when nothing was tried: unknown alert, approval timed out, guard rails refused.
     */
    remediationFailed: z.boolean().default(true),
  })
  .strict();
export type EscalateParams = z.infer<typeof escalateParams>;

export interface EscalateOutput {
  readonly incidentId: string;
  readonly status: string;
  /** False when the incident had already resolved: nobody is paged for it. */
  readonly escalated: boolean;
  readonly notifications: readonly ChannelOutcome[];
  readonly breaker?: { readonly scope: string; readonly state: string };
}

/**
 * `incident.escalate`: hand the incident to a human. Status → `escalated` (timeline entry, `Incident
 * Escalated` event), PagerDuty trigger with `dedup_key` = incident id, a Slack message, and a failed
 * outcome for the circuit breaker. Notifications are best effort: they never fail the task.
 */
export function escalateAction(deps: IncidentActionDeps): ActionDefinition<EscalateParams, EscalateOutput> {
  return {
    name: 'incident.escalate',
    description: 'Escalate the incident to on-call: status escalated, PagerDuty trigger, Slack message',
    mutating: false,
    params: escalateParams,
    async run(params, ctx) {
      const actor = actorOf(ctx);
      let { incident } = await deps.incidents.get(params.incidentId);
      if (incident.status === 'resolved') {
        await deps.incidents.record(incident.id, {
          actor,
          kind: 'comment',
          description: `Escalation not sent: the incident already resolved (${params.reason})`,
        });
        return {
          output: { incidentId: incident.id, status: incident.status, escalated: false, notifications: [] },
          writes: [],
        };
      }
      if (canTransition(incident.status, 'escalated')) {
        incident = await deps.incidents.setStatus(incident.id, 'escalated', {
          actor,
          kind: 'status.changed',
          description: `Escalated to on-call: ${params.reason}`,
          data: { reason: params.reason },
        });
      }
      const notification = notificationOf(incident, 'escalated', {
        description: params.reason,
        result: `escalated: ${params.reason}`,
        ...(params.severity ? { severity: params.severity } : {}),
        publicUrl: deps.publicUrl,
      });
      const messages = [
        { channel: 'pagerduty' as const, notification },
        { channel: 'slack' as const, notification },
      ];
      const notifications = await notifyAndRecord(deps, incident.id, messages, ctx, (outcomes) => ({
        description: `Escalation: ${describeOutcomes(outcomes)}`,
        data: { event: 'escalated', notifications: outcomes },
      }));
      await resolvePageIfResolvedMeanwhile(deps, incident.id, notifications, ctx);
      let breaker: EscalateOutput['breaker'];
      const scope = deps.scopeOf(incident);
      if (params.remediationFailed && !deps.isShadow(ctx.runbook) && scope) {
        const view = await deps.breaker.recordOutcome(scope, false, ctx.executionId);
        breaker = { scope: view.scope, state: view.state };
      }
      return {
        output: {
          incidentId: incident.id,
          status: incident.status,
          escalated: true,
          notifications,
          ...(breaker ? { breaker } : {}),
        },
        writes: [],
      };
    },
  };
}

/** Runs `incident.escalate` from Rebound's own code (settling an incident, a partial remediation). */
export function escalateIncident(
  deps: IncidentActionDeps,
  params: z.input<typeof escalateParams>,
  ctx: ActionContext,
): Promise<ActionResult<EscalateOutput>> {
  const action = escalateAction(deps);
  return action.run(action.params.parse(params), ctx);
}

/**
 * The incident may have resolved while the page was being sent (its alerts resolved): the follow-up rule's
 * `resolve` may then have reached PagerDuty before this `trigger`, leaving a page open for a resolved
 * incident. Resolving it again after the trigger closes it; PagerDuty ignores a second resolve.
 */
async function resolvePageIfResolvedMeanwhile(
  deps: IncidentActionDeps,
  incidentId: string,
  sent: readonly ChannelOutcome[],
  ctx: ActionContext,
): Promise<void> {
  if (!sent.some((o) => o.channel === 'pagerduty' && o.delivered)) return;
  const { incident } = await deps.incidents.get(incidentId);
  if (incident.status !== 'resolved') return;
  const notification = notificationOf(incident, 'resolved', {
    result: 'resolved while it was being escalated',
    publicUrl: deps.publicUrl,
  });
  const messages = [{ channel: 'pagerduty' as const, notification }];
  await notifyAndRecord(
    deps,
    incident.id,
    messages,
    { ...ctx, idempotencyKey: `${ctx.idempotencyKey}/resolved` },
    (closing) => ({
      description: `Resolved while it was being escalated: ${describeOutcomes(closing)}`,
      data: { event: 'resolved', notifications: closing },
    }),
  );
}
