import { z } from 'zod';
import { runbookRoutingSchema } from './runbook-routing.ts';

const labelName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'a Prometheus label name');

export const correlationRuleSchema = z
  .object({
    /** Alerts whose labels equal all of these use this rule's labels. */
    match: z.record(labelName, z.string()),
    labels: z.array(labelName).min(1),
  })
  .strict();

/**
 * Node alerts correlate per node: KubeNodeNotReady on node-b and on node-c are two incidents, and each node
 * is cordoned and drained on its own. Only these alerts: other alerts may carry a `node` label (container
 * metrics often do) and must still group by workload.
 */
export const DEFAULT_CORRELATION_RULES: z.infer<typeof correlationRuleSchema>[] = [
  'KubeNodeNotReady',
  'KubeNodeUnreachable',
].map((alertname) => ({ match: { alertname }, labels: ['alertname', 'cluster', 'node'] }));

export const incidentsConfigSchema = z
  .object({
    correlation: z
      .object({
        /** Alerts agreeing on these labels (whichever are present) join the same open incident. */
        labels: z.array(labelName).min(1).default(['alertname', 'namespace', 'service', 'cluster']),
        /** Per-matcher overrides, first match wins; given rules replace the defaults (node alerts per node). */
        rules: z.array(correlationRuleSchema).default(DEFAULT_CORRELATION_RULES),
      })
      .strict()
      .prefault({}),
    retention: z
      .object({
        maxAgeDays: z.number().int().positive().max(36_500).default(90),
        sweepIntervalSeconds: z.number().int().positive().max(86_400).default(3600),
      })
      .strict()
      .prefault({}),
    /** Which runbook an opened incident starts (by alertname / labels); see runbook-routing.ts. */
    runbooks: runbookRoutingSchema.prefault({}),
  })
  .strict();

export type IncidentsConfig = z.infer<typeof incidentsConfigSchema>;
