import { z } from 'zod';
import { alertmanagerConfigSchema } from '../../integrations/alertmanager/config.ts';
import { prometheusConfigSchema } from '../../integrations/prometheus/config.ts';

/** The `verify` config section: where verification reads, and its defaults. */
export const verifyConfigSchema = z
  .object({
    prometheus: prometheusConfigSchema.optional(),
    alertmanager: alertmanagerConfigSchema.optional(),
    alertResolved: z
      .object({
        /** How long `verify.alertResolved` waits when a runbook gives neither `timeoutSeconds` nor `deadline`. */
        timeoutSeconds: z.number().positive().max(86_400).default(300),
        /** How often Alertmanager and Prometheus are asked; the resolved webhook needs no polling. */
        pollIntervalSeconds: z.number().min(0.01).max(3_600).default(5),
      })
      .strict()
      .prefault({}),
    http: z
      .object({
        /**
         * `verify.http` only calls URLs starting with one of these (scheme, host, port and path prefix), so alert
         * labels copied into a runbook's parameters cannot point it anywhere else. Empty refuses every URL.
         */
        allowedUrlPrefixes: z.array(z.url({ protocol: /^https?$/ })).default([]),
        timeoutMs: z.number().int().positive().max(120_000).default(10_000),
        /** Larger bodies are cut here before matching. */
        maxBodyBytes: z.number().int().positive().default(1_048_576),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type VerifyConfig = z.infer<typeof verifyConfigSchema>;
