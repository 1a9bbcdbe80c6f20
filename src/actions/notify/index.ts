import type { FetchLike } from '../../integrations/http.ts';
import type { ActionDefinition } from '../types.ts';
import { createNotifyActions } from './actions.ts';
import type { NotifyConfig } from './config.ts';
import { EmailNotifier } from './email.ts';
import type { ChannelKind, ChannelNotifier } from './notification.ts';
import { PagerDutyNotifier } from './pagerduty.ts';
import { SlackNotifier } from './slack.ts';
import { WebhookNotifier } from './webhook.ts';

export { createNotifyActions, NotificationFailedError, notifyParams } from './actions.ts';
export {
  notifyConfigSchema,
  routeBySeverity,
  DEFAULT_ROUTES,
  type NotifyConfig,
  type RouteDecision,
} from './config.ts';
export {
  notificationSchema,
  type ChannelKind,
  type ChannelNotifier,
  type Delivery,
  type Notification,
  type Notifier,
} from './notification.ts';
export { sendBySeverity, type ChannelOutcome } from './routed.ts';
export { withRetries } from './retry.ts';
export { EmailNotifier, PagerDutyNotifier, SlackNotifier, WebhookNotifier };

/** One notifier per configured channel, built from the parsed `notify` config section. */
export function createNotifiers(
  config: NotifyConfig,
  options: { fetch?: FetchLike } = {},
): Partial<Record<ChannelKind, ChannelNotifier>> {
  const notifiers: Partial<Record<ChannelKind, ChannelNotifier>> = {};
  if (config.slack) notifiers.slack = new SlackNotifier({ ...config.slack, fetch: options.fetch });
  if (config.pagerduty)
    notifiers.pagerduty = new PagerDutyNotifier({ ...config.pagerduty, fetch: options.fetch });
  if (config.webhook) notifiers.webhook = new WebhookNotifier({ ...config.webhook, fetch: options.fetch });
  if (config.email) notifiers.email = new EmailNotifier(config.email);
  return notifiers;
}

/** The `notify.*` actions for the ActionRegistry, from the parsed `notify` config section. */
export function notifyActions(
  config: NotifyConfig,
  notifiers: Partial<Record<ChannelKind, ChannelNotifier>> = createNotifiers(config),
): ActionDefinition[] {
  const actions = createNotifyActions({
    notifiers,
    retry: { attempts: config.attempts },
  });
  // Each definition is typed by its own params; the registry holds them under the erased contract.
  return actions as unknown as ActionDefinition[];
}
