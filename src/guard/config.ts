import { z } from 'zod';
import type { AutomationMode } from './views.ts';

export type { AutomationMode } from './views.ts';

/**
 * The `guard` section of rebound.yaml. Durations accept milliseconds or `<n><unit>` strings (`250ms`, `30s`,
 * `5m`, `1h`, `7d`) and are normalised to milliseconds once, here.
 */

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `250ms` / `30s` / `5m` / `1h` / `7d` to milliseconds; undefined when the text is not a duration. */
export function parseDurationMs(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * UNIT_MS[match[2]!]!);
}

const duration = z
  .union([z.number().int().nonnegative(), z.string()], {
    error: 'a duration: whole milliseconds (e.g. 1500) or text such as 250ms, 1.5s, 5m, 1h or 7d',
  })
  .transform((value, ctx) => {
    if (typeof value === 'number') return value;
    const ms = parseDurationMs(value);
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `"${value}" is not a duration; write e.g. 250ms, 30s, 5m, 1h or 7d`,
      });
      return z.NEVER;
    }
    return ms;
  });

const DAY_MS = 86_400_000;
/** A duration no longer than `maxMs` (timers past ~24.8 days fire at once in Node, and dates have limits). */
const durationUpTo = (maxMs: number, words: string) =>
  duration.refine((ms) => ms <= maxMs, `at most ${words}`);

/** Same, and more than zero: for leases and poll intervals, where 0 means no lock or a busy loop. */
const positiveDurationUpTo = (maxMs: number, words: string, why: string) =>
  durationUpTo(maxMs, words).refine((ms) => ms > 0, `more than 0 (${why})`);

const allowlistSchema = z
  .object({
    /** Cluster names actions may touch; `*` wildcards allowed. */
    clusters: z.array(z.string().min(1)).default(['*']),
    /** Namespaces actions may touch; `*` wildcards allowed. Empty (the default) allows none: opt in explicitly. */
    namespaces: z.array(z.string().min(1)).default([]),
    /** Target kinds actions may touch. `Node` is left out by default, like the opt-in node ClusterRole. */
    kinds: z.array(z.string().min(1)).default(['Deployment', 'ConfigMap', 'Pod']),
  })
  .strict();

const shadowSchema = z
  .object({
    /** Every mutating action runs in shadow mode: writes are recorded, never sent. */
    global: z.boolean().default(false),
    /** Runbooks (by name) whose mutating actions run in shadow mode. */
    runbooks: z.array(z.string().min(1)).default([]),
    /**
     * Safe by default: until a cluster (`kubernetes.clusters`) and an allowlist (`guard.allowlist.namespaces`)
     * are both configured, every mutating action runs in shadow mode. Set false to turn that off (the
     * allowlist then refuses everything until namespaces are listed).
     */
    untilConfigured: z.boolean().default(true),
  })
  .strict();

const idempotencySchema = z
  .object({
    /** How long executed keys are remembered (and replayed) before they are pruned. */
    retention: durationUpTo(3650 * DAY_MS, '3650d').default(7 * 86_400_000),
  })
  .strict();

const lockSchema = z
  .object({
    /** Lease length; the holder renews it every ttl/3 while its action runs, so only a dead holder expires. */
    ttl: positiveDurationUpTo(DAY_MS, '1d', 'a lease of 0 expires as it is taken').default(5 * 60_000),
    /** How long a second caller waits for the target before being refused (retryable). */
    wait: durationUpTo(DAY_MS, '1d').default(30_000),
    /** How often a waiting caller re-checks a lock held by another process. */
    pollInterval: positiveDurationUpTo(DAY_MS, '1d', '0 would re-check without pause').default(250),
  })
  .strict();

const budgetSchema = z
  .object({
    /** Mutating actions allowed per target within one sliding window. */
    maxActions: z.number().int().positive().default(3),
    window: durationUpTo(3650 * DAY_MS, '3650d').default(3_600_000),
  })
  .strict();

const breakerSchema = z
  .object({
    /** Number of most recent remediation outcomes the success rate is computed over. */
    window: z.number().int().positive().default(10),
    /** The breaker opens when the success rate falls below this fraction. */
    threshold: z.number().min(0).max(1).default(0.8),
    /** Outcomes needed before the rate is judged at all, so one early failure does not open it. */
    minOutcomes: z.number().int().positive().default(5),
    /** `namespace`: one breaker per cluster/namespace (the default); `cluster`: one per cluster. */
    scope: z.enum(['namespace', 'cluster']).default('namespace'),
  })
  .strict();

const firingOnlySchema = z
  .object({
    enabled: z.boolean().default(true),
    /** What to do when the incident store cannot tell whether the incident still fires. */
    onUnknown: z.enum(['refuse', 'allow']).default('refuse'),
    /** Refuse mutating actions that carry no incident id (off: manual `rebound action run` has none). */
    requireIncident: z.boolean().default(false),
  })
  .strict();

export const guardConfigSchema = z
  .object({
    allowlist: allowlistSchema.prefault({}),
    shadow: shadowSchema.prefault({}),
    idempotency: idempotencySchema.prefault({}),
    lock: lockSchema.prefault({}),
    budget: budgetSchema.prefault({}),
    breaker: breakerSchema.prefault({}),
    firingOnly: firingOnlySchema.prefault({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.breaker.minOutcomes > config.breaker.window) {
      ctx.addIssue({
        code: 'custom',
        path: ['breaker', 'minOutcomes'],
        message: `minOutcomes (${config.breaker.minOutcomes}) cannot exceed window (${config.breaker.window})`,
      });
    }
  });

/** The parsed guard section (durations in milliseconds). */
export type GuardConfig = z.output<typeof guardConfigSchema>;
/** What a user may write in the guard section. */
export type GuardConfigInput = z.input<typeof guardConfigSchema>;

/** The one-line statement the CLI start-up line and `GET /v1/automation` show in default shadow mode. */
export const SHADOW_BY_DEFAULT_MESSAGE =
  'shadow mode: no cluster/allowlist configured — actions are recorded, not sent';

/**
 * The guard configuration in force. With `shadow.untilConfigured` (the default) and no cluster or no
 * allowlisted namespace, every mutating action is shadowed; the allowlist is not consulted then (nothing is
 * sent, and refusing would hide what the runbook would have done), so it is opened to every target.
 */
export function effectiveGuardConfig(
  guard: GuardConfig,
  clustersConfigured: boolean,
): { config: GuardConfig; mode: AutomationMode } {
  const missing = [
    ...(clustersConfigured ? [] : ['kubernetes.clusters']),
    ...(guard.allowlist.namespaces.length > 0 ? [] : ['guard.allowlist.namespaces']),
  ];
  if (guard.shadow.untilConfigured && missing.length > 0) {
    return {
      config: {
        ...guard,
        shadow: { ...guard.shadow, global: true },
        allowlist: {
          clusters: ['*'],
          namespaces: ['*'],
          kinds: [...new Set([...guard.allowlist.kinds, 'Node'])],
        },
      },
      mode: { mode: 'shadow', reason: 'default', message: SHADOW_BY_DEFAULT_MESSAGE, missing },
    };
  }
  if (guard.shadow.global) {
    return {
      config: guard,
      mode: {
        mode: 'shadow',
        reason: 'configured',
        message: 'shadow mode: guard.shadow.global is set — actions are recorded, not sent',
      },
    };
  }
  return { config: guard, mode: { mode: 'live', message: 'live: guarded actions are sent to the cluster' } };
}
