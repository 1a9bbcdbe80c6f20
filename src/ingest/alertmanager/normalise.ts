import { randomUUID } from 'node:crypto';
import { ReboundError } from '../../errors.ts';
import { ALERT_DETAIL_TYPE, ALERT_SOURCE, type StoredEvent } from '../../events/envelope.ts';
import { timeOrderedUuid } from '../../events/ids.ts';
import { alertFingerprint } from './fingerprint.ts';
import type { AlertmanagerAlert, AlertmanagerWebhook } from './payload.ts';

export interface EnvelopeDefaults {
  readonly account: string;
  readonly region: string;
}

/** The detail of an alert event: every field of the alert plus the notification's group context. */
export interface AlertDetail extends Record<string, unknown> {
  readonly status: 'firing' | 'resolved';
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly generatorURL: string;
  readonly fingerprint: string;
  readonly groupKey: string;
  readonly receiver: string;
  readonly externalURL: string;
  readonly correlationId: string;
}

/** Alertmanager HA replicas and retries repeat (fingerprint, startsAt, status): one event each. */
export function alertDedupKey(fingerprint: string, startsAt: string, status: string): string {
  return `am:${fingerprint}:${startsAt}:${status}`;
}

/** One event per alert; the fingerprint is computed, and checked against the sender's when present. */
export function normaliseWebhook(
  payload: AlertmanagerWebhook,
  defaults: EnvelopeDefaults,
  now: Date,
): StoredEvent[] {
  const time = now.toISOString();
  const nowMs = now.getTime();
  return payload.alerts.map((alert, index) => {
    const fingerprint = checkedFingerprint(alert, index);
    const correlationId = randomUUID();
    // One copy of the alert: a fingerprint it carried equals the computed one (checked above).
    const detail: AlertDetail = {
      ...alert,
      fingerprint,
      groupKey: payload.groupKey,
      receiver: payload.receiver,
      externalURL: payload.externalURL,
      correlationId,
    };
    return {
      envelope: {
        version: '0',
        // Time-ordered: appends to the events id index instead of scattering writes over it.
        id: timeOrderedUuid(nowMs),
        'detail-type': ALERT_DETAIL_TYPE,
        source: ALERT_SOURCE,
        account: defaults.account,
        time,
        region: defaults.region,
        resources: [],
        detail,
      },
      correlationId,
      dedupKey: alertDedupKey(fingerprint, alert.startsAt, alert.status),
      // A firing copy that arrives after this alert's resolution (an HA replica's retry, say) is out of date:
      // stored, it would open an incident that no notification will ever resolve. A new firing of the same
      // labels starts at a new startsAt.
      ...(alert.status === 'firing'
        ? { supersededBy: alertDedupKey(fingerprint, alert.startsAt, 'resolved') }
        : {}),
      receivedAt: time,
    };
  });
}

function checkedFingerprint(alert: AlertmanagerAlert, index: number): string {
  const computed = alertFingerprint(alert.labels);
  if (alert.fingerprint !== undefined && alert.fingerprint !== computed) {
    throw new ReboundError(
      'INVALID_PAYLOAD',
      `alerts[${index}].fingerprint: ${alert.fingerprint} does not match the labels (expected ${computed}); ` +
        'omit it to have Rebound compute it',
      { path: `alerts[${index}].fingerprint` },
    );
  }
  return computed;
}
