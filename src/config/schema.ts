import { z } from 'zod';
import { kubernetesConfigSchema } from '../actions/k8s/config.ts';
import { notifyConfigSchema } from '../actions/notify/config.ts';
import { verifyConfigSchema } from '../actions/verify/config.ts';
import {
  busConfigSchema,
  defaultRules,
  ruleSchema,
  targetsWithoutChannel,
  type RuleConfig,
} from '../bus/config.ts';
import { duplicateNames, ruleProblems } from '../bus/rules.ts';
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

/**
 * `bus` with the checks the bus runs when it loads rules (`RuleSet`: patterns, target inputs, unique names
 * and ids), so `rebound validate`, start-up and reload refuse the same files with the same key paths. Each
 * rule is checked on its own, so one rule's schema error does not hide another's pattern error.
 */
const checkedBusSchema = busConfigSchema.extend({
  rules: z
    .array(
      ruleSchema.superRefine((rule, ctx) => {
        for (const p of ruleProblems(rule))
          ctx.addIssue({ code: 'custom', path: [...p.path], message: p.message });
      }),
    )
    .superRefine((rules, ctx) => {
      for (const p of duplicateNames(rules))
        ctx.addIssue({ code: 'custom', path: [...p.path], message: p.message });
    })
    .optional(),
});

/** Where runbooks are read from when `workflows.runbooksDir` is not set (relative to the working directory). */
export const DEFAULT_RUNBOOKS_DIR = 'runbooks';

/** The whole of rebound.yaml. Each stage owns its section's schema; this composes them. */
export const configSchema = z
  .object({
    /** Where the embedded database and other state live. */
    dataDir: z.string().min(1, 'a directory path; omit the key for the default .rebound').default('.rebound'),
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
    bus: checkedBusSchema.prefault({}),
    workflows: workflowsConfigSchema
      .extend({
        /**
         * Directory of `*.asl.json` / `*.asl.yaml` runbooks loaded at start (default `runbooks`). Left unset
         * here, not defaulted, so start-up can refuse a configured directory that is missing while only
         * warning about a missing default one.
         */
        runbooksDir: z.string().min(1).optional(),
      })
      .prefault({}),
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
      rules: rulesInForce(config.bus.rules, config.bus.includeDefaultRules, () =>
        defaultRules(
          {
            slack: config.notify.slack !== undefined,
            pagerduty: config.notify.pagerduty !== undefined,
            email: config.notify.email !== undefined,
          },
          config.notify.routing,
          [
            ...config.incidents.runbooks.routes.map((route) => route.runbook),
            config.incidents.runbooks.fallback,
          ],
        ),
      ),
    },
  }));

/** The configured rules, the default ones, or both (a configured rule replaces the default of its name). */
function rulesInForce(
  configured: RuleConfig[] | undefined,
  includeDefaults: boolean,
  defaults: () => RuleConfig[],
): RuleConfig[] {
  if (!configured) return defaults();
  if (!includeDefaults) return configured;
  const replaced = new Set(configured.map((r) => r.name));
  return [...defaults().filter((r) => !replaced.has(r.name)), ...configured];
}

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
