import { z } from 'zod';
import { channelKind, routeBySeverity } from '../notify/config.ts';
import type { ChannelOutcome } from '../notify/routed.ts';
import type { ActionDefinition } from '../types.ts';
import type { IncidentActionDeps } from './deps.ts';
import { describeOutcomes, notificationOf, notifyAndRecord } from './message.ts';

export const incidentNotifyParams = z
  .object({
    incidentId: z.string().min(1),
    event: z
      .enum(['opened', 'updated', 'remediated', 'escalated', 'acknowledged', 'resolved'])
      .default('updated'),
    description: z.string().min(1).max(4000).optional(),
    result: z.string().min(1).max(2000).optional(),
    /** Default: the channels the incident's severity routes to (notify.routing). */
    channels: z.array(channelKind).min(1).optional(),
  })
  .strict();
export type IncidentNotifyParams = z.infer<typeof incidentNotifyParams>;

export interface IncidentNotifyOutput {
  readonly incidentId: string;
  /** The severity route used, when the channels came from routing. */
  readonly route?: string;
  readonly notifications: readonly ChannelOutcome[];
}

/**
 * `incident.notify`: tell the incident's routed channels (low → Slack, critical → PagerDuty by default)
 * about it, built from the incident store. Best effort: failures are reported, never thrown.
 */
export function incidentNotifyAction(
  deps: IncidentActionDeps,
): ActionDefinition<IncidentNotifyParams, IncidentNotifyOutput> {
  return {
    name: 'incident.notify',
    description: 'Notify the channels the incident’s severity routes to (or the given ones); never fails',
    mutating: false,
    params: incidentNotifyParams,
    async run(params, ctx) {
      const { incident } = await deps.incidents.get(params.incidentId);
      const route = params.channels ? undefined : routeBySeverity(incident.severity, deps.routing);
      const channels = params.channels ?? route!.channels;
      const notification = notificationOf(incident, params.event, {
        ...(params.description ? { description: params.description } : {}),
        ...(params.result ? { result: params.result } : {}),
        publicUrl: deps.publicUrl,
      });
      const messages = channels.map((channel) => ({ channel, notification }));
      const notifications = await notifyAndRecord(deps, incident.id, messages, ctx, (outcomes) => ({
        description: `Notified (${params.event}): ${describeOutcomes(outcomes)}${params.description ? ` — ${params.description}` : ''}`,
        data: { event: params.event, notifications: outcomes },
      }));
      return {
        output: { incidentId: incident.id, ...(route ? { route: route.matched } : {}), notifications },
        writes: [],
      };
    },
  };
}
