import { z } from 'zod';
import { ReboundError } from '../../errors.ts';

/** Alertmanager's zero time: what firing alerts carry as `endsAt`. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';

const labelSet = z.record(z.string(), z.string());
// RFC 3339 with optional fraction and any offset, as Go's time.Time marshals it; a real instant: no
// 2026-02-30, no hour 99, no offset +99:99 (each would be an Invalid Date to everything that reads it).
const rfc3339 = z.iso.datetime({ offset: true, error: 'an RFC 3339 timestamp that exists' });

export const alertSchema = z.looseObject({
  status: z.enum(['firing', 'resolved']),
  labels: labelSet.refine((l) => Object.keys(l).length > 0, 'at least one label'),
  annotations: labelSet,
  startsAt: rfc3339,
  endsAt: rfc3339,
  generatorURL: z.string(),
  fingerprint: z
    .string()
    .regex(/^[0-9a-f]{16}$/, '16 lower-case hex digits')
    .optional(),
});

/** Alertmanager webhook payload version 4 (prometheus/alertmanager notify/webhook). Unknown fields pass. */
export const webhookSchema = z.looseObject({
  version: z.literal('4', { error: 'payload version "4" (Alertmanager webhook_config)' }),
  groupKey: z.string(),
  truncatedAlerts: z.number().int().nonnegative().optional(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string(),
  groupLabels: labelSet,
  commonLabels: labelSet,
  commonAnnotations: labelSet,
  externalURL: z.string(),
  alerts: z.array(alertSchema).min(1, 'at least one alert'),
});

export type AlertmanagerAlert = z.infer<typeof alertSchema>;
export type AlertmanagerWebhook = z.infer<typeof webhookSchema>;

/** Validates a parsed body; throws INVALID_PAYLOAD naming the first offending field and what it expected. */
export function parseWebhook(body: unknown): AlertmanagerWebhook {
  const result = webhookSchema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = formatPath(issue.path);
  throw new ReboundError('INVALID_PAYLOAD', `${path || 'body'}: ${issue.message}`, {
    path: path || '$',
    details: result.error.issues.slice(0, 10).map((i) => ({ path: formatPath(i.path), message: i.message })),
  });
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** A formatted path under a root, as messages name it: `body.alerts[0]`, `Detail[2]`, `pattern` for none. */
export function formatPathUnder(root: string, at: string): string {
  return at === '' ? root : at.startsWith('[') ? `${root}${at}` : `${root}.${at}`;
}
