import { z } from 'zod';
import { isLoopbackHost } from '../../http/auth.ts';

/**
 * The `notify` config section: channel endpoints (secrets included; never logged) and severity routing —
 * which severities Rebound remediates and which channels hear about them.
 */

export const channelKind = z.enum(['slack', 'pagerduty', 'webhook', 'email']);

const route = z
  .object({
    remediate: z.boolean(),
    channels: z.array(channelKind).refine((c) => new Set(c).size === c.length, 'channels must be unique'),
  })
  .strict();

export type SeverityRoute = z.infer<typeof route>;

/** The seed's policy: low/info → Slack only; medium/warning → remediate + Slack; critical → remediate + page. */
export const DEFAULT_ROUTES: Readonly<Record<string, SeverityRoute>> = {
  info: { remediate: false, channels: ['slack'] },
  low: { remediate: false, channels: ['slack'] },
  warning: { remediate: true, channels: ['slack'] },
  medium: { remediate: true, channels: ['slack'] },
  critical: { remediate: true, channels: ['pagerduty'] },
};

export const routingConfigSchema = z
  .object({
    /** Severity (label value, matched case-insensitively) → route. Replaces the defaults when given. */
    severities: z
      .record(z.string().min(1), route)
      .default({ ...DEFAULT_ROUTES })
      .transform((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k.toLowerCase(), v]))),
    /** A severity not listed (or none): tell people, do not act on a cluster. */
    unknown: route.default({ remediate: false, channels: ['slack'] }),
  })
  .strict();

const timeoutMs = z.number().int().positive().max(120_000).default(10_000);

export const slackChannelSchema = z
  .object({
    /** `https://hooks.slack.com/services/…`; the URL is the secret. */
    webhookUrl: z.url({ protocol: /^https?$/ }),
    timeoutMs,
  })
  .strict();

export const pagerdutyChannelSchema = z
  .object({
    /** Events API v2 integration key (32 characters). */
    routingKey: z.string().length(32, 'a PagerDuty Events v2 routing key has 32 characters'),
    /** `https://events.pagerduty.com`, or `https://events.eu.pagerduty.com` for EU accounts. */
    url: z.url({ protocol: /^https?$/ }).default('https://events.pagerduty.com'),
    /** `payload.source` when a notification names no service or cluster. */
    source: z.string().min(1).default('rebound'),
    timeoutMs,
  })
  .strict();

export const webhookChannelSchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }),
    /** HMAC-SHA256 key the receiver shares; at least 32 characters. */
    secret: z.string().min(32),
    timeoutMs,
  })
  .strict();

export const emailChannelSchema = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65_535).default(587),
    /** True for implicit TLS (port 465); false uses STARTTLS when the server offers it. */
    secure: z.boolean().default(false),
    /** Refuse to send unless STARTTLS succeeds (set for any server outside the host). */
    requireTLS: z.boolean().default(false),
    user: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    from: z.string().min(3),
    to: z.array(z.string().min(3)).min(1),
    timeoutMs,
  })
  .strict()
  .refine((e) => (e.user === undefined) === (e.password === undefined), {
    message: 'give both user and password, or neither',
  })
  .refine((e) => e.password === undefined || e.secure || e.requireTLS || isLoopbackHost(e.host), {
    message:
      'the password would go in clear text to a server that offers no STARTTLS (or to whoever strips it): ' +
      'set requireTLS: true (STARTTLS, port 587) or secure: true (TLS, port 465)',
    path: ['requireTLS'],
  });

export const notifyConfigSchema = z
  .object({
    routing: routingConfigSchema.prefault({}),
    slack: slackChannelSchema.optional(),
    pagerduty: pagerdutyChannelSchema.optional(),
    webhook: webhookChannelSchema.optional(),
    email: emailChannelSchema.optional(),
    /** Attempts per delivery made by `notify.*` actions (the bus applies its own retry policy). */
    attempts: z.number().int().min(1).max(10).default(3),
  })
  .strict();

export type NotifyConfig = z.infer<typeof notifyConfigSchema>;
export type RoutingConfig = z.infer<typeof routingConfigSchema>;
export type ChannelName = z.infer<typeof channelKind>;

export interface RouteDecision {
  /** The routing entry used: the severity lower-cased, or `unknown`. */
  readonly matched: string;
  readonly remediate: boolean;
  readonly channels: readonly ChannelName[];
}

/** Which channels hear about an alert of this severity, and whether Rebound may remediate it. Pure. */
export function routeBySeverity(severity: string | undefined, config: RoutingConfig): RouteDecision {
  const key = severity?.trim().toLowerCase();
  const found = key ? config.severities[key] : undefined;
  if (key && found) return { matched: key, remediate: found.remediate, channels: [...found.channels] };
  return { matched: 'unknown', remediate: config.unknown.remediate, channels: [...config.unknown.channels] };
}
