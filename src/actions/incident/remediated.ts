import { z } from 'zod';
import { canTransition } from '../../incidents/lifecycle.ts';
import type { Incident, IncidentAlert } from '../../incidents/model.ts';
import { routeBySeverity } from '../notify/config.ts';
import type { ChannelOutcome } from '../notify/routed.ts';
import type { ActionDefinition } from '../types.ts';
import type { IncidentActionDeps } from './deps.ts';
import { escalateIncident } from './escalate.ts';
import { actorOf, describeOutcomes, notificationOf, notifyAndRecord } from './message.ts';

export const remediatedParams = z
  .object({
    incidentId: z.string().min(1),
    /** What fixed it, e.g. "verified: alert resolved (webhook) after the rollout restart". */
    summary: z.string().min(1).max(2000),
    /** Count a verified success for the circuit breaker (default); false for a shadow or no-op run. */
    remediationSucceeded: z.boolean().default(true),
    /**
     * The labels the verification matched (the runbook's `$.labels`). With them, an incident with other
     * alerts still firing is not resolved but escalated: the runbook fixed what it checked, not all of it.
     */
    verifiedLabels: z.record(z.string(), z.string()).optional(),
  })
  .strict();
export type RemediatedParams = z.infer<typeof remediatedParams>;

export interface RemediatedOutput {
  readonly incidentId: string;
  readonly status: string;
  /** Alerts of the incident, other than the verified ones, still firing: it was escalated, not resolved. */
  readonly stillFiring?: readonly string[];
  readonly notifications: readonly ChannelOutcome[];
  readonly breaker?: { readonly scope: string; readonly state: string };
}

/**
 * `incident.remediated`: the closed loop's success. A verified success for the circuit breaker, the
 * incident → `resolved` (`Incident Resolved` event), and the routed channels told: a "Remediated" message,
 * and PagerDuty's alert (if one was triggered) resolved by its dedup_key. When other alerts of the incident
 * than those verified (`verifiedLabels`) are still firing, the incident is escalated instead
 * (`incident.escalate`), naming them.
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
      const detail = await deps.incidents.get(params.incidentId);
      let { incident } = detail;
      const others =
        incident.status === 'resolved'
          ? []
          : await stillFiring(deps, othersFiring(detail.alerts, params.verifiedLabels), ctx.signal);
      if (others.length > 0) {
        const names = others.map((o) => o.name);
        const escalated = await escalateIncident(
          deps,
          {
            incidentId: incident.id,
            reason:
              `${summary}; but ${others.length} other alert(s) of this incident still fire ` +
              `(${basisOf(others)}): ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}`,
            remediationFailed: false,
          },
          ctx,
        );
        return {
          writes: [],
          output: {
            incidentId: incident.id,
            status: escalated.output.status,
            stillFiring: names,
            notifications: escalated.output.notifications,
            ...(await recordSuccess(params, deps, incident, shadow)),
          },
        };
      }
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
      const messages = route.channels.map((channel) => ({
        channel,
        // PagerDuty triggers on `remediated`; what on-call needs is the page closing.
        notification:
          channel === 'pagerduty' ? { ...notification, event: 'resolved' as const } : notification,
      }));
      const notifications = await notifyAndRecord(deps, incident.id, messages, ctx, (outcomes) => ({
        description: `Remediated: ${describeOutcomes(outcomes)}`,
        data: { event: 'remediated', notifications: outcomes },
      }));
      return {
        output: {
          incidentId: incident.id,
          status: incident.status,
          notifications,
          ...(await recordSuccess(params, deps, incident, shadow)),
        },
        writes: [],
      };
    },
  };
}

/** The verified success, for the circuit breaker (not for a shadow run, nor one that asked not to). */
async function recordSuccess(
  params: RemediatedParams,
  deps: IncidentActionDeps,
  incident: Incident,
  shadow: boolean,
): Promise<Pick<RemediatedOutput, 'breaker'>> {
  const scope = deps.scopeOf(incident);
  if (!params.remediationSucceeded || shadow || !scope) return {};
  const view = await deps.breaker.recordOutcome(scope, true);
  return { breaker: { scope: view.scope, state: view.state } };
}

/** Another alert of the incident, still firing; `confirmedBy` the sources that said so when asked. */
interface OtherAlert {
  readonly alert: IncidentAlert;
  /** `CheckoutCrashLooping{pod=fghij}`: named by the labels that tell it apart from the verified set. */
  readonly name: string;
  readonly confirmedBy?: readonly string[];
}

/**
 * The incident's alerts the verification did not cover (none without `verified`) that are firing by
 * Alertmanager's last notification.
 */
function othersFiring(
  alerts: readonly IncidentAlert[],
  verified: Readonly<Record<string, string>> | undefined,
): OtherAlert[] {
  if (!verified) return [];
  return alerts
    .filter((a) => a.status === 'firing')
    .filter((a) => !Object.entries(verified).every(([k, v]) => a.labels[k] === v))
    .map((alert) => {
      const differing = Object.entries(alert.labels).filter(
        ([k, v]) => k !== 'alertname' && verified[k] !== v,
      );
      return { alert, name: `${alert.alertname}{${differing.map(([k, v]) => `${k}=${v}`).join(', ')}}` };
    });
}

/**
 * Alertmanager's last notification can be a `group_interval` old: verification may have decided through
 * Prometheus before Alertmanager told Rebound the others resolved too. So each is checked once through the
 * verification sources; one they say resolved is not a reason to escalate, one nobody could check stays.
 */
async function stillFiring(
  deps: IncidentActionDeps,
  others: readonly OtherAlert[],
  signal: AbortSignal,
): Promise<OtherAlert[]> {
  const recheck = deps.recheck;
  if (recheck === undefined || others.length === 0) return [...others];
  const checked = await Promise.all(
    others.map(async (other) => {
      const answer = await recheck({ alertname: other.alert.alertname, labels: other.alert.labels }, signal);
      if (answer === undefined) return other;
      return answer.resolved ? undefined : { ...other, confirmedBy: answer.sources };
    }),
  );
  return checked.filter((o) => o !== undefined);
}

/** `confirmed by alertmanager, prometheus`, or where the state comes from when nobody could be asked. */
function basisOf(others: readonly OtherAlert[]): string {
  const sources = [...new Set(others.flatMap((o) => o.confirmedBy ?? []))].sort();
  const unconfirmed = others.filter((o) => o.confirmedBy === undefined).length;
  if (unconfirmed === 0) return `confirmed by ${sources.join(', ')}`;
  const last = "by Alertmanager's last notification";
  if (unconfirmed === others.length) return last;
  return `${last}; ${others.length - unconfirmed} confirmed by ${sources.join(', ')}`;
}
