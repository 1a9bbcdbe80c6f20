import { z } from 'zod';
import type { WriteRequest } from '../types.ts';

/**
 * What a notification says, independent of the channel: the incident, what Rebound did about it and how it
 * ended. The same shape is a runbook's `notify.*` parameters and what the bus hands a notifier target.
 */
export const notificationSchema = z
  .object({
    incidentId: z.string().min(1).max(255),
    /** The incident's move this message reports; channels render and route by it. */
    event: z
      .enum(['opened', 'updated', 'remediated', 'escalated', 'acknowledged', 'resolved'])
      .default('updated'),
    title: z.string().min(1).max(1024),
    severity: z.string().min(1).max(64).default('warning'),
    /** The incident's lifecycle status, e.g. `remediating`, `escalated`. */
    status: z.string().max(64).optional(),
    service: z.string().max(255).optional(),
    cluster: z.string().max(255).optional(),
    namespace: z.string().max(255).optional(),
    description: z.string().max(4_000).optional(),
    labels: z.record(z.string(), z.string()).default({}),
    // http(s) only: a link is shown to people, who click it (never `javascript:` or `data:`).
    links: z
      .object({
        dashboard: z.url({ protocol: /^https?$/ }).optional(),
        prometheus: z.url({ protocol: /^https?$/ }).optional(),
        runbook: z.url({ protocol: /^https?$/ }).optional(),
        incident: z.url({ protocol: /^https?$/ }).optional(),
      })
      .strict()
      .default({}),
    /** What Rebound did, in order. */
    actions: z
      .array(
        z
          .object({
            name: z.string().min(1).max(200),
            outcome: z.enum(['succeeded', 'failed', 'skipped', 'shadow', 'pending']),
            detail: z.string().max(1_000).optional(),
          })
          .strict(),
      )
      .max(50)
      .default([]),
    /** How it ended, in one line, e.g. "verified: alert resolved (webhook) 42 s after the restart". */
    result: z.string().max(2_000).optional(),
    occurredAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

export type Notification = z.infer<typeof notificationSchema>;
export type NotificationInput = z.input<typeof notificationSchema>;

export type ChannelKind = 'slack' | 'pagerduty' | 'webhook' | 'email';

export interface SendOptions {
  readonly signal?: AbortSignal;
  /** Stable per logical delivery, so a retried send can be recognised by the receiver. */
  readonly idempotencyKey?: string;
}

/** What a channel reports back after the peer accepted the message. */
export interface Delivery {
  readonly channel: ChannelKind;
  /** The request as sent, secrets replaced by `[redacted]`. */
  readonly request: WriteRequest;
  /** The peer's reference, when it gives one (PagerDuty dedup_key, SMTP message id). */
  readonly reference?: string;
}

/** Anything that can deliver a notification: one method, as in Alertmanager's notify package. */
export interface Notifier {
  /** Delivers the notification or throws an `IntegrationError` saying whether a retry can help. */
  send(notification: Notification, options?: SendOptions): Promise<Delivery>;
}

/** A notifier for one channel that can also show, without sending, what it would send (shadow mode). */
export interface ChannelNotifier extends Notifier {
  readonly channel: ChannelKind;
  /** The request `send` would make, secrets redacted. */
  preview(notification: Notification, options?: SendOptions): WriteRequest;
}

/**
 * Links for a message about an incident: its page on the dashboard (`server.publicUrl` + `/incidents/<id>`),
 * which a person can open from Slack, e-mail or PagerDuty; none without a public URL.
 */
export function incidentLinks(publicUrl: string | undefined, incidentId: string): { incident?: string } {
  if (!publicUrl) return {};
  return { incident: `${publicUrl.replace(/\/+$/, '')}/incidents/${encodeURIComponent(incidentId)}` };
}

/** Upper-case severity for subjects and headers, e.g. `CRITICAL`. */
export function severityLabel(severity: string): string {
  return severity.toUpperCase();
}
