import { describeError } from '../../errors.ts';
import { isIntegrationError } from '../../integrations/errors.ts';
import type { UndeliveredNotification } from '../../incidents/events.ts';
import type { Incident } from '../../incidents/model.ts';
import type { ChannelOutcome } from '../notify/routed.ts';
import { incidentLinks, type ChannelKind, type Notification } from '../notify/notification.ts';
import { withRetries } from '../notify/retry.ts';
import type { ActionContext } from '../types.ts';
import type { IncidentActionDeps } from './deps.ts';

/** The notification for one move of an incident, from what the incident store knows about it. */
export function notificationOf(
  incident: Incident,
  event: Notification['event'],
  extra: { description?: string; result?: string; severity?: string; publicUrl?: string | undefined },
): Notification {
  return {
    incidentId: incident.id,
    event,
    title: incident.title,
    severity: extra.severity ?? incident.severity,
    status: incident.status,
    ...(incident.service ? { service: incident.service } : {}),
    ...(incident.cluster ? { cluster: incident.cluster } : {}),
    ...(incident.namespace ? { namespace: incident.namespace } : {}),
    ...(extra.description ? { description: extra.description.slice(0, 4000) } : {}),
    labels: { ...incident.labels },
    links: incidentLinks(extra.publicUrl, incident.id),
    actions: [],
    ...(extra.result ? { result: extra.result.slice(0, 2000) } : {}),
    occurredAt: incident.updatedAt,
  };
}

/**
 * Sends each channel its notification (retrying retryable failures), in parallel. Never throws: a
 * notification failure must not block a remediation or an escalation; the outcomes say what happened.
 */
async function sendEach(
  deps: IncidentActionDeps,
  messages: Messages,
  ctx: ActionContext,
): Promise<ChannelOutcome[]> {
  return Promise.all(
    messages.map(async ({ channel, notification }): Promise<ChannelOutcome> => {
      const notifier = deps.notifiers[channel];
      if (!notifier) {
        const message = `${channel} is not configured (notify.${channel} in rebound.yaml)`;
        return { channel, delivered: false, error: { message, retryable: false } };
      }
      try {
        const delivery = await withRetries(notifier, deps.retry).send(notification, {
          signal: ctx.signal,
          idempotencyKey: `${ctx.idempotencyKey}/${channel}`,
        });
        return { channel, delivered: true, ...(delivery.reference ? { reference: delivery.reference } : {}) };
      } catch (err) {
        const retryable = isIntegrationError(err) && err.retryable;
        return { channel, delivered: false, error: { message: describeError(err), retryable } };
      }
    }),
  );
}

/**
 * Channels whose default rules send an undelivered notification again (escalationFollowUpRule,
 * undeliveredEmailRule). A webhook channel has none: its receiver is the user's own.
 */
const FOLLOWED_UP: readonly ChannelKind[] = ['slack', 'pagerduty', 'email'];

/**
 * The notifications of `messages` that failed with a retryable error, for `IncidentOperations.record` to
 * hand to the bus (`Notification Undelivered`): an outage of a few seconds must not lose a page.
 */
function undeliveredOf(messages: Messages, outcomes: readonly ChannelOutcome[]): UndeliveredNotification[] {
  return messages.flatMap(({ channel, notification }, i) => {
    const outcome = outcomes[i];
    if (!outcome || outcome.delivered || !outcome.error?.retryable || !FOLLOWED_UP.includes(channel))
      return [];
    return [{ channel, notification: { ...notification }, error: outcome.error.message }];
  });
}

/** The messages an `incident.*` action sends: one notification per channel. */
type Messages = readonly { channel: ChannelKind; notification: Notification }[];

/**
 * Sends each channel its notification and records the outcomes on the incident's timeline, as `entry`
 * describes them; what a channel refused for a moment is handed to the bus in the same commit (see
 * undeliveredOf). Never throws for a notification failure; returns the outcomes.
 */
export async function notifyAndRecord(
  deps: IncidentActionDeps,
  incidentId: string,
  messages: Messages,
  ctx: ActionContext,
  entry: (outcomes: readonly ChannelOutcome[]) => { description: string; data: unknown },
): Promise<ChannelOutcome[]> {
  const outcomes = await sendEach(deps, messages, ctx);
  await deps.incidents.record(
    incidentId,
    { actor: actorOf(ctx), kind: 'notification', ...entry(outcomes) },
    undeliveredOf(messages, outcomes),
  );
  return outcomes;
}

/** One line per channel for the timeline, e.g. `pagerduty delivered (inc_01…); slack failed: HTTP 500`. */
export function describeOutcomes(outcomes: readonly ChannelOutcome[]): string {
  if (outcomes.length === 0) return 'no channel routed';
  return outcomes
    .map((o) =>
      o.delivered
        ? `${o.channel} delivered${o.reference ? ` (${o.reference})` : ''}`
        : `${o.channel} not delivered: ${o.error?.message ?? 'unknown error'}`,
    )
    .join('; ');
}

/** Who wrote a timeline entry: the runbook when an execution calls the action. */
export function actorOf(ctx: ActionContext): string {
  return ctx.runbook ? `runbook:${ctx.runbook}` : 'rebound';
}
