import { z } from 'zod';
import { describeError } from '../../errors.ts';
import { isIntegrationError } from '../../integrations/errors.ts';
import type { ActionDefinition, ActionContext, ActionResult } from '../types.ts';
import { notificationSchema, type ChannelKind, type ChannelNotifier } from './notification.ts';
import { withRetries, type RetryOptions } from './retry.ts';

/** A `notify.*` action was told the delivery is `required` and it could not be made. */
export class NotificationFailedError extends Error {
  readonly retryable: boolean;

  constructor(message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'Rebound.NotificationFailed';
    this.retryable = options.retryable;
  }
}

export const notifyParams = notificationSchema.extend({
  /**
   * False (default): a failed delivery is reported in the output and the runbook goes on — a notification
   * must never block a remediation. True: it fails the task with `Rebound.NotificationFailed`.
   */
  required: z.boolean().default(false),
});

export type NotifyParams = z.infer<typeof notifyParams>;

export interface NotifyOutput {
  readonly channel: ChannelKind;
  readonly delivered: boolean;
  readonly shadow?: boolean;
  readonly reference?: string;
  readonly error?: { readonly message: string; readonly retryable: boolean; readonly status?: number };
}

export interface NotifyActionsDeps {
  /** Configured channels; an action for a missing one reports `delivered: false` (or fails if required). */
  readonly notifiers: Partial<Record<ChannelKind, ChannelNotifier>>;
  readonly retry: RetryOptions;
}

const CHANNELS: readonly ChannelKind[] = ['slack', 'pagerduty', 'webhook', 'email'];

/** `notify.slack`, `notify.pagerduty`, `notify.webhook`, `notify.email`. Not mutating: no guard rails. */
export function createNotifyActions(deps: NotifyActionsDeps): ActionDefinition<NotifyParams, NotifyOutput>[] {
  return CHANNELS.map((channel) => ({
    name: `notify.${channel}`,
    description: `Send the incident notification to ${channel}`,
    mutating: false,
    params: notifyParams,
    run: (params, ctx) => deliver(channel, deps, params, ctx),
  }));
}

async function deliver(
  channel: ChannelKind,
  deps: NotifyActionsDeps,
  params: NotifyParams,
  ctx: ActionContext,
): Promise<ActionResult<NotifyOutput>> {
  const { required, ...notification } = params;
  const notifier = deps.notifiers[channel];
  if (!notifier) {
    const message = `notify.${channel}: the ${channel} channel is not configured (notify.${channel} in rebound.yaml)`;
    if (required) throw new NotificationFailedError(message, { retryable: false });
    return { output: { channel, delivered: false, error: { message, retryable: false } }, writes: [] };
  }
  const sendOptions = { signal: ctx.signal, idempotencyKey: ctx.idempotencyKey };
  if (ctx.shadow) {
    return {
      output: { channel, delivered: false, shadow: true },
      writes: [notifier.preview(notification, sendOptions)],
    };
  }
  try {
    const delivery = await withRetries(notifier, deps.retry).send(notification, sendOptions);
    const output: NotifyOutput = {
      channel,
      delivered: true,
      ...(delivery.reference ? { reference: delivery.reference } : {}),
    };
    return { output, writes: [delivery.request] };
  } catch (err) {
    ctx.signal.throwIfAborted();
    const retryable = isIntegrationError(err) && err.retryable;
    const status = isIntegrationError(err) ? err.status : undefined;
    if (required)
      throw new NotificationFailedError(`notify.${channel}: ${describeError(err)}`, {
        retryable,
        cause: err,
      });
    const error = { message: describeError(err), retryable, ...(status === undefined ? {} : { status }) };
    return {
      output: { channel, delivered: false, error },
      writes: [notifier.preview(notification, sendOptions)],
    };
  }
}
