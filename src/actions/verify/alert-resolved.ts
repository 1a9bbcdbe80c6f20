import { z } from 'zod';
import type { ActionDefinition } from '../types.ts';
import { VerificationUnavailableError } from './errors.ts';
import type { Poller, ResolutionSource } from './pollers.ts';
import type { AlertQuery, ResolvedSignal } from './resolved-signal.ts';
import { waitForAlertsResolved, type ResolutionCheck } from './wait-resolved.ts';

const labelSet = z.record(
  z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'not a Prometheus label name'),
  z.string(),
);
const alertRef = z.object({ alertname: z.string().min(1), labels: labelSet.default({}) }).strict();

export const alertResolvedParams = z
  .object({
    /** One alert (`alertname` + identifying `labels`) or several (`alerts`); all must resolve. */
    alertname: z.string().min(1).optional(),
    labels: labelSet.optional(),
    alerts: z.array(alertRef).min(1).max(50).optional(),
    /** Wait at most this long from when the attempt starts. */
    timeoutSeconds: z.number().positive().max(86_400).optional(),
    /** Or until this absolute time, which survives a restart of the attempt (wins over timeoutSeconds). */
    deadline: z.iso.datetime({ offset: true }).optional(),
    pollIntervalSeconds: z.number().min(0.01).max(3_600).optional(),
    /** Ignore resolved webhooks older than this (e.g. the alert's `startsAt`). */
    since: z.iso.datetime({ offset: true }).optional(),
    /** Restrict which sources may decide; defaults to every configured one. */
    sources: z
      .array(z.enum(['webhook', 'alertmanager', 'prometheus']))
      .min(1)
      .optional(),
  })
  .strict()
  .refine((p) => (p.alertname === undefined) !== (p.alerts === undefined), {
    message: 'give either alertname (with labels) or alerts, not both',
  })
  .refine((p) => p.alerts === undefined || p.labels === undefined, {
    message: 'labels go inside each entry of alerts',
  });

export type AlertResolvedParams = z.infer<typeof alertResolvedParams>;

export interface AlertResolvedResult {
  readonly resolved: true;
  /** The source that decided the last alert to resolve. */
  readonly source: ResolutionSource;
  readonly at: string;
  readonly alerts: readonly {
    alertname: string;
    labels: Record<string, string>;
    source: ResolutionSource;
    at: string;
  }[];
  readonly checks: readonly ResolutionCheck[];
  readonly checkCount: number;
}

export interface AlertResolvedDeps {
  readonly pollers: readonly Poller[];
  readonly resolved?: ResolvedSignal;
  readonly defaultTimeoutSeconds: number;
  readonly defaultPollIntervalSeconds: number;
}

const MAX_WAIT_MS = 86_400_000;

/** `verify.alertResolved`: read-only; waits for the incident's alerts to resolve or fails at the deadline. */
export function alertResolvedAction(
  deps: AlertResolvedDeps,
): ActionDefinition<AlertResolvedParams, AlertResolvedResult> {
  return {
    name: 'verify.alertResolved',
    description:
      'Wait until the alerts resolve (resolved webhook, Alertmanager API or Prometheus), or fail at the deadline',
    mutating: false,
    readOnly: true,
    params: alertResolvedParams,
    async run(params, ctx) {
      const started = ctx.now();
      const deadline = params.deadline
        ? new Date(params.deadline)
        : new Date(started.getTime() + 1000 * (params.timeoutSeconds ?? deps.defaultTimeoutSeconds));
      if (deadline.getTime() - started.getTime() > MAX_WAIT_MS) {
        throw new VerificationUnavailableError('deadline is more than 24 h away; verify in shorter windows', {
          retryable: false,
        });
      }
      const since = params.since ? new Date(params.since) : undefined;
      const queries: AlertQuery[] = (
        params.alerts ?? [{ alertname: params.alertname ?? '', labels: params.labels ?? {} }]
      ).map((a) => ({ alertname: a.alertname, labels: a.labels, ...(since ? { since } : {}) }));
      const allowed = new Set<ResolutionSource>(params.sources ?? ['webhook', 'alertmanager', 'prometheus']);
      const outcome = await waitForAlertsResolved(queries, {
        pollers: deps.pollers.filter((p) => allowed.has(p.source)),
        resolved: allowed.has('webhook') ? deps.resolved : undefined,
        deadline,
        pollIntervalMs: 1000 * (params.pollIntervalSeconds ?? deps.defaultPollIntervalSeconds),
        now: ctx.now,
        signal: ctx.signal,
      });
      const last = outcome.decisions.reduce((a, b) => (b.at > a.at ? b : a));
      return {
        output: {
          resolved: true,
          source: last.source,
          at: last.at.toISOString(),
          alerts: outcome.decisions.map((d) => ({
            alertname: d.alertname,
            labels: { ...d.labels },
            source: d.source,
            at: d.at.toISOString(),
          })),
          checks: outcome.checks,
          checkCount: outcome.checkCount,
        },
        writes: [],
      };
    },
  };
}
