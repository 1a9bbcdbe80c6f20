import {
  incidentLinks,
  notificationSchema,
  type ChannelNotifier,
  type Notification,
} from '../../actions/notify/notification.ts';
import { describeError } from '../../errors.ts';
import type { StoredEvent } from '../../events/envelope.ts';
import { isIntegrationError } from '../../integrations/errors.ts';
import {
  INCIDENT_DETAIL_TYPES,
  INCIDENT_SOURCE,
  NOTIFICATION_UNDELIVERED,
  type IncidentEventDetail,
} from '../../incidents/events.ts';
import { DeliveryError, type DeliveryItem, type Target } from './target.ts';

export interface NotificationTargetOptions {
  /** The channel's notifier; undefined when its `notify.<channel>` section was not configured at start. */
  readonly notifier: ChannelNotifier | undefined;
  readonly channel: string;
  /** True when the target has an `input`: then the input is the notification, else the event is read. */
  readonly transformed: boolean;
  /** `server.publicUrl`, for a link to the incident. */
  readonly publicUrl?: string;
}

/**
 * Sends a notification through one channel (Slack, PagerDuty, e-mail) per delivered event, so messages get
 * the bus's retry policy and dead-letter queue. An incident lifecycle event becomes the notification of its
 * move (`Incident Resolved` → `resolved`, which PagerDuty turns into a resolve of the incident's dedup_key),
 * and a `Notification Undelivered` event the notification it carries;
 * a target with an `input` receives the notification its input builds. What cannot become a notification
 * goes to the DLQ at once, with the reason.
 */
export function notificationTarget(options: NotificationTargetOptions): Target {
  return {
    async deliver({ delivery, event, input }: DeliveryItem, signal: AbortSignal) {
      const notifier = options.notifier;
      if (!notifier)
        throw new DeliveryError(
          `the ${options.channel} channel is not configured in this process (notify.${options.channel} is read at start)`,
          false,
        );
      const notification = options.transformed
        ? parseNotification(input.value, options.channel)
        : fromLifecycleEvent(event, options);
      try {
        // One key per (event, rule, target): a re-delivery is recognisable by the receiver.
        const idempotencyKey = `${event.envelope.id}/${delivery.rule}/${delivery.target}`;
        await notifier.send(notification, { signal, idempotencyKey });
      } catch (err) {
        if (isIntegrationError(err))
          throw new DeliveryError(`${options.channel}: ${describeError(err)}`, err.retryable, {
            cause: err,
            retryAfterMs: err.retryAfterMs,
          });
        throw err;
      }
    },
  };
}

function parseNotification(value: unknown, channel: string): Notification {
  const parsed = notificationSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0];
  const where = first && first.path.length > 0 ? `${first.path.join('.')}: ` : '';
  throw new DeliveryError(
    `the ${channel} target's input is not a notification (${where}${first?.message ?? 'invalid'})`,
    false,
  );
}

const MOVES: Readonly<Record<string, Notification['event']>> = Object.fromEntries(
  Object.entries(INCIDENT_DETAIL_TYPES).map(([move, detailType]) => [detailType, move]),
) as Record<string, Notification['event']>;

/** The notification of one incident lifecycle event, built from what the event says. */
export function fromLifecycleEvent(
  event: StoredEvent,
  options: Pick<NotificationTargetOptions, 'channel' | 'publicUrl'>,
): Notification {
  if (event.envelope.source === INCIDENT_SOURCE && event.envelope['detail-type'] === NOTIFICATION_UNDELIVERED)
    return parseNotification(event.envelope.detail['notification'], options.channel);
  const move = MOVES[event.envelope['detail-type']];
  if (event.envelope.source !== INCIDENT_SOURCE || !move)
    throw new DeliveryError(
      `a ${options.channel} target without an input reads incident lifecycle events (source ${INCIDENT_SOURCE}); ` +
        `this is "${event.envelope['detail-type']}" from ${event.envelope.source} — give the target an input ` +
        `that builds a notification`,
      false,
    );
  const detail = event.envelope.detail as unknown as IncidentEventDetail;
  return parseNotification(
    {
      incidentId: detail.incidentId,
      event: move,
      title: (detail.summary || `incident ${detail.incidentId}`).slice(0, 1024),
      severity: detail.severity,
      status: detail.status,
      ...(detail.service ? { service: detail.service } : {}),
      ...(detail.cluster ? { cluster: detail.cluster } : {}),
      ...(detail.namespace ? { namespace: detail.namespace } : {}),
      labels: detail.labels,
      links: incidentLinks(options.publicUrl, detail.incidentId),
      ...(detail.reason ? { result: detail.reason.slice(0, 2000) } : {}),
      occurredAt: event.envelope.time,
    },
    options.channel,
  );
}
