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

export const incidentsConfigSchema = z
  .object({
    correlation: z
      .object({
        /**
         * Alerts agreeing on these labels (whichever are present) join the same open incident. `node` keeps
         * two nodes' alerts (KubeNodeNotReady on node-b and on node-c) apart: each node is drained on its own.
         */
        labels: z.array(labelName).min(1).default(['alertname', 'namespace', 'service', 'cluster', 'node']),
        /** Per-matcher overrides, first match wins. */
        rules: z.array(correlationRuleSchema).default([]),
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
