import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { RoutingConfig } from '../actions/notify/config.ts';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../integrations/webhook/signature.ts';
import { targetInputSchema } from './transform/index.ts';

/** EventBridge's retry policy of a target (same names and bounds, in seconds). */
export const retryPolicySchema = z
  .object({
    maximumEventAgeSeconds: z.number().int().min(60).max(86_400).default(86_400),
    maximumRetryAttempts: z.number().int().min(0).max(185).default(185),
    /** Backoff before the n-th retry is a random delay in [0, min(max, base × 2^n)] (full jitter). */
    baseDelayMs: z.number().int().min(1).max(3_600_000).default(1000),
    maxDelayMs: z.number().int().min(1).max(86_400_000).default(300_000),
  })
  .strict();

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** Headers a webhook target's configuration may not set: the connection's own, and the ones Rebound sets. */
const RESERVED_HEADERS = new Set([
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'expect',
  'host',
  'x-rebound-event-id',
  'x-rebound-correlation-id',
  'x-rebound-rule',
  TIMESTAMP_HEADER,
  SIGNATURE_HEADER,
]);

export const NOTIFICATION_TARGET_KINDS = ['slack', 'pagerduty', 'email'] as const;

const common = {
  /** Unique within its rule; DLQ entries and metrics name the target as `<rule>/<id>`. */
  id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ - (at most 64)'),
  retry: retryPolicySchema.prefault({}),
  /** Deliveries in flight at once for this target; events with the same incident key stay in order. */
  concurrency: z.number().int().min(1).max(256).default(16),
  input: targetInputSchema.optional(),
};

export const targetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('incidents'), ...common }).strict(),
  z.object({ kind: z.literal('log'), ...common, level: z.enum(['info', 'warn']).default('info') }).strict(),
  z
    .object({
      kind: z.literal('webhook'),
      ...common,
      url: z.url({ protocol: /^https?$/ }),
      /** HMAC-SHA256 secret; the body is signed as X-Rebound-Signature: v1=hex(HMAC(secret, ts + "." + body)). */
      secret: z.string().min(16).optional(),
      /** Sent with every POST; the connection's own headers and the ones Rebound sets are refused. */
      headers: z
        .record(z.string(), z.string())
        .default({})
        .superRefine((headers, ctx) => {
          for (const name of Object.keys(headers)) {
            const message = !HEADER_NAME.test(name)
              ? `"${name}" is not an HTTP header name`
              : RESERVED_HEADERS.has(name.toLowerCase())
                ? `"${name}" is set by Rebound or by the connection; it cannot be configured`
                : undefined;
            if (message) ctx.addIssue({ code: 'custom', path: [name], message });
          }
        }),
      timeoutMs: z.number().int().min(100).max(60_000).default(5000),
    })
    .strict(),
  z.object({ kind: z.literal('workflow'), ...common, workflow: z.string().min(1) }).strict(),
  // Notification channels, sending through the endpoint configured under `notify.<kind>`. Without `input`
  // they read incident lifecycle events; with one, the input must build a notification (docs/notifications.md).
  ...NOTIFICATION_TARGET_KINDS.map((kind) => z.object({ kind: z.literal(kind), ...common }).strict()),
]);

/** Bus target kinds that send a notification through a channel of the `notify` section. */
export type NotificationTargetKind = (typeof NOTIFICATION_TARGET_KINDS)[number];

/** A notification target whose channel is missing: where it is in `bus.rules`, and what it needs. */
export interface TargetWithoutChannel {
  readonly ruleIndex: number;
  readonly targetIndex: number;
  /** `<rule>/<target> (notify.<kind>)`. */
  readonly label: string;
  readonly kind: NotificationTargetKind;
}

/** The notification targets of `rules` whose channel `hasChannel` says is not there. */
export function targetsWithoutChannel(
  rules: readonly z.output<typeof ruleSchema>[],
  hasChannel: (kind: NotificationTargetKind) => boolean,
): TargetWithoutChannel[] {
  const kinds: readonly string[] = NOTIFICATION_TARGET_KINDS;
  return rules.flatMap((rule, ruleIndex) =>
    rule.targets.flatMap((target, targetIndex) => {
      if (!kinds.includes(target.kind)) return [];
      const kind = target.kind as NotificationTargetKind;
      if (hasChannel(kind)) return [];
      return [{ ruleIndex, targetIndex, kind, label: `${rule.name}/${target.id} (notify.${kind})` }];
    }),
  );
}

export const ruleSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ - (at most 64)'),
    description: z.string().optional(),
    enabled: z.boolean().default(true),
    /** An EventBridge event pattern, as JSON/YAML. */
    pattern: z.record(z.string(), z.unknown()),
    targets: z.array(targetSchema).min(1).max(5),
  })
  .strict();

/** The runbooks shipped in `runbooks/`; `incidents.runbooks` decides which one an incident starts. */
const SHIPPED_RUNBOOKS = ['high-error-rate', 'high-latency', 'bad-deploy', 'node-not-ready', 'unknown-alert'];

/** What a runbook started for an incident receives: the incident id, severity and labels, and the event detail. */
export const RUNBOOK_INPUT = {
  InputTransformer: {
    InputPathsMap: {
      incidentId: '$.detail.incidentId',
      severity: '$.detail.severity',
      labels: '$.detail.labels',
      detail: '$.detail',
    },
    InputTemplate:
      '{"incidentId": <incidentId>, "severity": <severity>, "labels": <labels>, "incident": <detail>}',
  },
};

/**
 * `name`, or — past the 64 characters rule names and target ids may have — its beginning and a digest of
 * the whole, so that two long runbook names never share a rule.
 */
function bounded(name: string): string {
  if (name.length <= 64) return name;
  return `${name.slice(0, 55)}-${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
}

/** `Incident Opened` whose routing chose `runbook` → start that runbook (once per incident). */
export function runbookRule(runbook: string): z.input<typeof ruleSchema> {
  return {
    name: bounded(`runbook.${runbook}`),
    description: `Incidents routed to the ${runbook} runbook (incidents.runbooks) start it.`,
    pattern: {
      source: ['rebound.incidents'],
      'detail-type': ['Incident Opened'],
      detail: { runbook: [runbook] },
    },
    targets: [{ kind: 'workflow', id: bounded(runbook), workflow: runbook, input: RUNBOOK_INPUT }],
  };
}

export const DEFAULT_RULES: z.input<typeof ruleSchema>[] = [
  {
    name: 'alerts-to-incidents',
    description: 'Every Alertmanager alert opens or updates an incident.',
    pattern: { source: ['rebound.alertmanager'] },
    targets: [{ kind: 'incidents', id: 'incidents' }],
  },
  ...SHIPPED_RUNBOOKS.map(runbookRule),
];

/**
 * Follows up on a page. Once an incident that was escalated to humans is acknowledged or resolved (by a
 * person, the API, or its alerts resolving), the channel hears it, and PagerDuty acknowledges or resolves the
 * alert it was paged with (same `dedup_key`) instead of leaving it open. When a runbook resolves the incident,
 * its `incident.remediated` may have resolved the page already: PagerDuty takes a second resolve of the same
 * dedup_key as a no-op.
 *
 * Both also send again a notification the runbook's `incident.*` action could not deliver (a retryable
 * failure after its own attempts: `Notification Undelivered`), under the bus's retry policy and DLQ, so a
 * Slack or PagerDuty outage of a few seconds does not lose a page.
 *
 * For PagerDuty the rule also follows up incidents of the severities routed to PagerDuty (`pagedSeverities`,
 * see pagedSeverities()), escalated or not: their runbook announced them there when it started, and one
 * that resolves before it is escalated (its alert resolved before the first action, say) would otherwise
 * leave that page open. A resolve of a dedup_key PagerDuty never saw is a no-op.
 */
export function escalationFollowUpRule(
  channel: 'slack' | 'pagerduty',
  pagedSeverities: readonly string[] | 'all' = [],
): z.input<typeof ruleSchema> {
  const escalated = { escalatedAt: [{ exists: true }] };
  const followed =
    channel === 'slack' || pagedSeverities.length === 0
      ? { detail: escalated }
      : pagedSeverities === 'all'
        ? {}
        : { detail: { $or: [escalated, { severity: [...pagedSeverities] }] } };
  return {
    name: `escalations-followup.${channel}`,
    description:
      channel === 'slack'
        ? 'Acknowledged and resolved escalated incidents are reported to slack.'
        : 'Pages are acknowledged and resolved with their incident.',
    pattern: {
      source: ['rebound.incidents'],
      $or: [
        { 'detail-type': ['Incident Acknowledged', 'Incident Resolved'], ...followed },
        // What the channel refused for a moment when a runbook sent it: sent again by the same target, so in
        // order with the incident's acknowledgement and resolution.
        { 'detail-type': ['Notification Undelivered'], detail: { channel: [channel] } },
      ],
    },
    targets: [{ kind: channel, id: channel }],
  };
}

/**
 * Sends again an e-mail a runbook's `incident.*` action could not deliver (`Notification Undelivered`, a
 * retryable failure such as an SMTP server answering 4xx), under the bus's retry policy and DLQ. E-mail has
 * no acknowledgement or resolution to keep in order with, so this is all its follow-up does.
 */
export function undeliveredEmailRule(): z.input<typeof ruleSchema> {
  return {
    name: 'notifications-resend.email',
    description: 'E-mails a runbook could not deliver are sent again.',
    pattern: {
      source: ['rebound.incidents'],
      'detail-type': ['Notification Undelivered'],
      detail: { channel: ['email'] },
    },
    targets: [{ kind: 'email', id: 'email' }],
  };
}

/** The incident severities whose notifications severity routing sends to PagerDuty ('all' for any). */
export function pagedSeverities(routing: RoutingConfig): string[] | 'all' {
  if (routing.unknown.channels.includes('pagerduty')) return 'all';
  return Object.entries(routing.severities)
    .filter(([, route]) => route.channels.includes('pagerduty'))
    .map(([severity]) => severity);
}

/**
 * The rules used when rebound.yaml lists none: the shipped ones, a `runbook.<name>` rule for every other
 * runbook incident routing can choose (`routedRunbooks`), and follow-ups for the configured channels.
 */
export function defaultRules(
  channels: { slack: boolean; pagerduty: boolean; email?: boolean },
  routing?: RoutingConfig,
  routedRunbooks: readonly string[] = [],
): RuleConfig[] {
  const others = [...new Set(routedRunbooks)].filter((r) => !SHIPPED_RUNBOOKS.includes(r));
  return [
    ...DEFAULT_RULES,
    ...others.map(runbookRule),
    ...(channels.pagerduty
      ? [escalationFollowUpRule('pagerduty', routing ? pagedSeverities(routing) : [])]
      : []),
    ...(channels.slack ? [escalationFollowUpRule('slack')] : []),
    ...(channels.email ? [undeliveredEmailRule()] : []),
  ].map((r) => ruleSchema.parse(r));
}

export const busConfigSchema = z
  .object({
    /** Omitted: `defaultRules` (the shipped rules, and page follow-ups for the configured channels). */
    rules: z.array(ruleSchema).optional(),
    /**
     * Keep the default rules beside `rules` (a rule of the same name replaces the default one). Without it,
     * `rules` replaces them all, the `runbook.<name>` rules that start routed runbooks included.
     */
    includeDefaultRules: z.boolean().default(false),
    /** Archived events (all of them) are kept this long and can be replayed. */
    archiveRetentionDays: z.number().int().positive().max(36_500).default(90),
  })
  .strict();

export type BusConfig = z.infer<typeof busConfigSchema>;
export type RuleConfig = z.infer<typeof ruleSchema>;
export type TargetConfig = z.infer<typeof targetSchema>;
export type RetryPolicy = z.infer<typeof retryPolicySchema>;
