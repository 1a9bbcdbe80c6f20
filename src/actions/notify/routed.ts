import { describeError } from '../../errors.ts';
import { isIntegrationError } from '../../integrations/errors.ts';
import { routeBySeverity, type RouteDecision, type RoutingConfig } from './config.ts';
import type { ChannelKind, ChannelNotifier, Notification, SendOptions } from './notification.ts';

export interface ChannelOutcome {
  readonly channel: ChannelKind;
  readonly delivered: boolean;
  readonly reference?: string;
  readonly error?: { readonly message: string; readonly retryable: boolean };
}

/**
 * Sends one notification to every channel its severity routes to, in parallel. Never throws: one channel
 * failing (or not being configured) does not stop the others, and the caller sees each outcome.
 */
export async function sendBySeverity(
  notification: Notification,
  routing: RoutingConfig,
  notifiers: Partial<Record<ChannelKind, ChannelNotifier>>,
  options: SendOptions = {},
): Promise<{ route: RouteDecision; outcomes: readonly ChannelOutcome[] }> {
  const route = routeBySeverity(notification.severity, routing);
  const outcomes = await Promise.all(
    route.channels.map(async (channel): Promise<ChannelOutcome> => {
      const notifier = notifiers[channel];
      if (!notifier)
        return {
          channel,
          delivered: false,
          error: { message: `${channel} is not configured`, retryable: false },
        };
      try {
        const delivery = await notifier.send(notification, options);
        return { channel, delivered: true, ...(delivery.reference ? { reference: delivery.reference } : {}) };
      } catch (err) {
        return {
          channel,
          delivered: false,
          error: { message: describeError(err), retryable: isIntegrationError(err) && err.retryable },
        };
      }
    }),
  );
  return { route, outcomes };
}
