import { z } from 'zod';
import { kubernetesConfigSchema } from '../actions/k8s/config.ts';
import { notifyConfigSchema } from '../actions/notify/config.ts';
import { verifyConfigSchema } from '../actions/verify/config.ts';
import { busConfigSchema, defaultRules, targetsWithoutChannel } from '../bus/config.ts';
import { guardConfigSchema } from '../guard/config.ts';
import { approvalsConfigSchema } from '../approvals/config.ts';
import { slackAppConfigSchema } from '../integrations/slack/config.ts';
import { workflowsConfigSchema } from '../workflows/config.ts';
import { serverConfigSchema } from '../http/config.ts';
import { incidentsConfigSchema } from '../incidents/config.ts';
import { ingestConfigSchema } from '../ingest/config.ts';

const storeSchema = z
  .object({
    driver: z.literal('sqlite').default('sqlite'),
    sqlite: z
      .object({
        /** Relative paths resolve against `dataDir`. */
        path: z.string().default('rebound.db'),
        synchronous: z.enum(['NORMAL', 'FULL', 'EXTRA']).default('FULL'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

/** The whole of rebound.yaml. Each stage owns its section's schema; this composes them. */
export const configSchema = z
  .object({
    /** Where the embedded database and other state live. */
    dataDir: z.string().default('.rebound'),
    logging: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .strict()
      .prefault({}),
    server: serverConfigSchema.prefault({}),
    store: storeSchema.prefault({}),
    ingest: ingestConfigSchema.prefault({}),
    incidents: incidentsConfigSchema.prefault({}),
    bus: busConfigSchema.prefault({}),
    workflows: workflowsConfigSchema.prefault({}),
    kubernetes: kubernetesConfigSchema.prefault({}),
    guard: guardConfigSchema.prefault({}),
    verify: verifyConfigSchema.prefault({}),
    notify: notifyConfigSchema.prefault({}),
    approvals: approvalsConfigSchema.prefault({}),
    /** The Slack app behind interactive approvals (optional). */
    slack: slackAppConfigSchema.optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    // A notification target sends through its channel's endpoint in the notify section.
    const missing = targetsWithoutChannel(
      config.bus.rules ?? [],
      (kind) => config.notify[kind] !== undefined,
    );
    for (const { ruleIndex, targetIndex, kind } of missing)
      ctx.addIssue({
        code: 'custom',
        path: ['bus', 'rules', ruleIndex, 'targets', targetIndex, 'kind'],
        message: `a ${kind} target sends through notify.${kind}, which is not configured`,
      });
  })
  .transform((config) => ({
    ...config,
    bus: {
      ...config.bus,
      rules:
        config.bus.rules ??
        defaultRules({
          slack: config.notify.slack !== undefined,
          pagerduty: config.notify.pagerduty !== undefined,
        }),
    },
  }));

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
