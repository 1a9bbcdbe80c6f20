import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ReboundError } from '../errors.ts';
import { formatPath } from '../ingest/alertmanager/payload.ts';
import { BURN_WINDOWS, burnRateFactor } from './burn-rate.ts';
import { parseDurationMinutes } from './duration.ts';

/**
 * The SLO file `rebound slo generate` reads. One file holds any number of SLOs; each names its objective
 * (percent), its window and its SLI as PromQL with a `{{window}}` placeholder where the range goes.
 */

export const WINDOW_PLACEHOLDER = '{{window}}';

const labelName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be a Prometheus label name');
const labelMap = z.record(labelName, z.string());
const query = z
  .string()
  .min(1)
  .refine((q) => q.includes(WINDOW_PLACEHOLDER), {
    message: `must contain ${WINDOW_PLACEHOLDER} where the range goes, e.g. rate(http_requests_total[${WINDOW_PLACEHOLDER}])`,
  });

const sliSchema = z
  .object({
    /** Rate of bad events; the error ratio is error / total. */
    error: query.optional(),
    /** Rate of good events; the error ratio is 1 - good / total. */
    good: query.optional(),
    total: query,
  })
  .strict()
  .refine((s) => (s.error === undefined) !== (s.good === undefined), {
    message: 'give exactly one of sli.error or sli.good (next to sli.total)',
  });

const sloSchema = z
  .object({
    name: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9_-]{0,62}$/,
        'must be lower-case letters, digits, - or _ (at most 63 characters)',
      ),
    description: z.string().optional(),
    service: z.string().min(1).optional(),
    /** Percent of good events, e.g. 99.9. */
    objective: z.number().gt(0).lt(100),
    window: z.string().default('30d'),
    sli: sliSchema,
    labels: labelMap.default({}),
    alerting: z
      .object({
        /** Alert name shared by the burn-rate alerts of this SLO; default ErrorBudgetBurn. */
        name: z
          .string()
          .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be a valid alert name')
          .default('ErrorBudgetBurn'),
        pageLabels: labelMap.default({ severity: 'critical' }),
        ticketLabels: labelMap.default({ severity: 'warning' }),
        annotations: z.record(z.string(), z.string()).default({}),
      })
      .strict()
      .prefault({}),
  })
  .strict();

const fileSchema = z
  .object({ slos: z.array(sloSchema).min(1, 'list at least one SLO under slos:') })
  .strict();

export type SloDefinition = z.infer<typeof sloSchema> & { readonly windowMinutes: number };

const RESERVED_LABELS = new Set(['slo', 'alertname', 'long_window', 'short_window', 'burn_rate']);

/** Parses and validates an SLO file; every problem is a ReboundError naming the path and the fix. */
export function parseSloFile(text: string, source = 'slo.yaml'): SloDefinition[] {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ReboundError('INVALID_CONFIG', `${source} is not valid YAML: ${doc.errors[0]!.message}`);
  }
  const parsed = fileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = formatPath(issue.path) || '(top level)';
    throw new ReboundError('INVALID_CONFIG', `${source}: ${path}: ${issue.message}`, { path });
  }
  const seen = new Set<string>();
  return parsed.data.slos.map((slo, i) => {
    const at = (field: string) => `slos[${i}].${field}`;
    const fail = (field: string, message: string): never => {
      throw new ReboundError('INVALID_CONFIG', `${source}: ${at(field)}: ${message}`, { path: at(field) });
    };
    if (seen.has(slo.name)) fail('name', `SLO ${slo.name} is defined twice; names must be unique`);
    seen.add(slo.name);
    const windowMinutes = parseDurationMinutes(slo.window);
    if (windowMinutes === undefined)
      return fail('window', `"${slo.window}" is not a duration like 28d or 4w`);
    if (windowMinutes < 3 * 24 * 60) fail('window', 'must be at least 3d, the longest alerting window');
    for (const key of [...Object.keys(slo.labels), ...Object.keys(slo.alerting.pageLabels)]) {
      if (RESERVED_LABELS.has(key) || key.startsWith('__'))
        fail('labels', `label ${key} is set by the generator`);
    }
    checkReachable(slo.objective, windowMinutes, (message) => fail('objective', message));
    return { ...slo, windowMinutes };
  });
}

/** An alert whose threshold is above a 100 % error ratio could never fire: refuse it rather than ship it. */
function checkReachable(objective: number, windowMinutes: number, fail: (message: string) => never): void {
  const budget = errorBudget(objective);
  for (const window of BURN_WINDOWS) {
    const factor = burnRateFactor(window, windowMinutes);
    if (factor * budget >= 1) {
      fail(
        `${objective}% leaves a ${budget * 100}% error budget; burning it ${factor}× would need more than ` +
          `100% errors, so that alert could never fire. Use an objective above ${(100 - 100 / factor).toFixed(2)}%.`,
      );
    }
  }
}

/** 1 - objective as a ratio, rounded so 99.9 gives exactly 0.001. */
export function errorBudget(objectivePercent: number): number {
  return Math.round((100 - objectivePercent) * 1e6) / 1e8;
}
