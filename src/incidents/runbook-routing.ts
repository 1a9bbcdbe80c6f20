import { z } from 'zod';
import type { IncidentEventDetail } from './events.ts';
import type { Incident } from './model.ts';

/**
 * Which runbook remediates which alert: config, first matching route wins, the fallback (the shipped
 * `unknown-alert` runbook: record, notify, escalate) when none does. The decision travels in the
 * `Incident Opened` event so bus rules can start the runbook and the runbook can read its parameters.
 */

const labelName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'a Prometheus label name');
const runbookName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/, 'a runbook (workflow) name');

export const runbookRouteSchema = z
  .object({
    runbook: runbookName,
    match: z
      .object({
        /** The alert's `alertname` is one of these (omit to match any alertname). */
        alertname: z.array(z.string().min(1)).min(1).optional(),
        /** And each of these labels has exactly this value. */
        labels: z.record(labelName, z.string()).default({}),
      })
      .strict(),
    /**
     * The runbook asks a human before acting (`approval.request`); for a critical alert it pages first and
     * does nothing until someone chooses "Remediate now".
     */
    requiresApproval: z.boolean().default(false),
    /** Handed to the runbook as `$.parameters` (merged over the runbook's own defaults). */
    parameters: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export type RunbookRoute = z.infer<typeof runbookRouteSchema>;

/** The shipped routes: the checkout service's alerts (deploy/prometheus/rules) and the usual generic names. */
export const DEFAULT_RUNBOOK_ROUTES: z.input<typeof runbookRouteSchema>[] = [
  {
    runbook: 'high-error-rate',
    match: { alertname: ['CheckoutHighErrorRatio', 'HighErrorRate', 'ErrorBudgetBurn'] },
  },
  { runbook: 'high-latency', match: { alertname: ['CheckoutHighLatencyP95', 'HighLatency'] } },
  {
    runbook: 'bad-deploy',
    match: { alertname: ['CheckoutCrashLooping', 'CheckoutPodRestarting', 'KubePodCrashLooping'] },
  },
  {
    runbook: 'node-not-ready',
    match: { alertname: ['KubeNodeNotReady', 'NodeNotReady'] },
    // Draining a node moves every workload on it: a person says yes first.
    requiresApproval: true,
  },
];

export const runbookRoutingSchema = z
  .object({
    /** First match wins. Replaces the shipped routes when given. */
    routes: z
      .array(runbookRouteSchema)
      .default(DEFAULT_RUNBOOK_ROUTES.map((r) => runbookRouteSchema.parse(r))),
    /** Runs when no route matches: record, notify, escalate. */
    fallback: runbookName.default('unknown-alert'),
  })
  .strict();

export type RunbookRouting = z.infer<typeof runbookRoutingSchema>;

export interface RunbookChoice {
  readonly runbook: string;
  /** False when the fallback was chosen: no runbook knows this alert. */
  readonly matched: boolean;
  readonly requiresApproval: boolean;
  readonly parameters: Readonly<Record<string, unknown>>;
}

/** Picks the runbook for an alert's labels. Pure. */
export function chooseRunbook(
  labels: Readonly<Record<string, string>>,
  routing: RunbookRouting,
): RunbookChoice {
  const route = routing.routes.find(
    (r) =>
      (r.match.alertname === undefined || r.match.alertname.includes(labels['alertname'] ?? '')) &&
      Object.entries(r.match.labels).every(([k, v]) => labels[k] === v),
  );
  if (!route) return { runbook: routing.fallback, matched: false, requiresApproval: false, parameters: {} };
  return {
    runbook: route.runbook,
    matched: true,
    requiresApproval: route.requiresApproval,
    parameters: route.parameters,
  };
}

/** What severity routing says about an incident: whether Rebound may act, and whom to tell. */
export interface SeverityDecision {
  readonly remediate: boolean;
  readonly channels: readonly string[];
}

/**
 * The facts `Incident Opened` carries for the runbook: which one, whether it may remediate (severity
 * routing), whether it must ask first, whom to notify, and its parameters.
 */
export function openingFacts(
  routing: RunbookRouting,
  bySeverity: (severity: string) => SeverityDecision,
): (incident: Incident, labels: Readonly<Record<string, string>>) => Partial<IncidentEventDetail> {
  return (incident, labels) => {
    const choice = chooseRunbook(labels, routing);
    const route = bySeverity(incident.severity);
    return {
      runbook: choice.runbook,
      remediate: route.remediate,
      requiresApproval: choice.requiresApproval,
      channels: [...route.channels],
      parameters: choice.parameters,
    };
  };
}
