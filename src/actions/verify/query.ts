import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { PrometheusClient, PrometheusSample } from '../../integrations/prometheus/client.ts';
import type { ActionDefinition } from '../types.ts';
import { compare, comparisonOperator } from './compare.ts';
import { VerificationFailedError, VerificationUnavailableError } from './errors.ts';

export const queryParams = z
  .object({
    /** PromQL yielding an instant vector or a scalar, e.g. an error ratio. */
    query: z.string().min(1).max(10_000),
    op: comparisonOperator,
    threshold: z.number(),
    /** An empty vector (often "no traffic"): fail (default), pass, or compare as the value 0. */
    ifEmpty: z.enum(['fail', 'pass', 'zero']).default('fail'),
    /** Keep re-evaluating until the comparison holds or this many seconds pass; absent = evaluate once. */
    timeoutSeconds: z.number().positive().max(86_400).optional(),
    pollIntervalSeconds: z.number().min(0.01).max(3_600).default(5),
  })
  .strict();

export type QueryParams = z.infer<typeof queryParams>;

export interface QueryEvaluation {
  readonly passed: boolean;
  readonly samples: readonly { metric: Record<string, string>; value: number; passed: boolean }[];
  readonly empty: boolean;
  readonly warnings: readonly string[];
  readonly at: string;
}

export interface QueryResult extends QueryEvaluation {
  readonly query: string;
  readonly op: string;
  readonly threshold: number;
  readonly evaluations: number;
}

/** `verify.query`: every series of the result must satisfy `value op threshold`. */
export function queryAction(
  client: PrometheusClient | undefined,
): ActionDefinition<QueryParams, QueryResult> {
  return {
    name: 'verify.query',
    description: 'Run a PromQL instant query and compare every value with a threshold',
    mutating: false,
    readOnly: true,
    params: queryParams,
    async run(params, ctx) {
      if (!client) {
        throw new VerificationUnavailableError(
          'verify.query needs verify.prometheus.url in the configuration',
          { retryable: false },
        );
      }
      const deadline =
        params.timeoutSeconds === undefined ? undefined : ctx.now().getTime() + params.timeoutSeconds * 1000;
      let evaluations = 0;
      for (;;) {
        const evaluation = await evaluate(client, params, ctx.signal, ctx.now);
        evaluations += 1;
        const result = {
          ...evaluation,
          query: params.query,
          op: params.op,
          threshold: params.threshold,
          evaluations,
        };
        if (evaluation.passed) return { output: result, writes: [] };
        if (deadline === undefined || ctx.now().getTime() + params.pollIntervalSeconds * 1000 > deadline) {
          throw new VerificationFailedError(failureMessage(params, evaluation), result);
        }
        await sleep(params.pollIntervalSeconds * 1000, undefined, { signal: ctx.signal });
      }
    },
  };
}

async function evaluate(
  client: PrometheusClient,
  params: QueryParams,
  signal: AbortSignal,
  now: () => Date,
): Promise<QueryEvaluation> {
  const answer = await client.query(params.query, { signal });
  const at = now().toISOString();
  const samples = answer.samples.length === 0 && params.ifEmpty === 'zero' ? [zero()] : answer.samples;
  const judged = samples.map((s) => ({
    metric: { ...s.metric },
    value: s.value,
    passed: compare(s.value, params.op, params.threshold),
  }));
  const empty = answer.samples.length === 0;
  const passed =
    empty && params.ifEmpty !== 'zero' ? params.ifEmpty === 'pass' : judged.every((s) => s.passed);
  return { passed, samples: judged, empty, warnings: answer.warnings, at };
}

function zero(): PrometheusSample {
  return { metric: {}, timestamp: 0, value: 0 };
}

function failureMessage(params: QueryParams, evaluation: QueryEvaluation): string {
  if (evaluation.empty && params.ifEmpty === 'fail') {
    return `verify.query: ${params.query} returned no data; set ifEmpty to "pass" or "zero" if no data means healthy`;
  }
  const failing = evaluation.samples
    .filter((s) => !s.passed)
    .map((s) => `${JSON.stringify(s.metric)}=${s.value}`);
  return `verify.query: expected ${params.op} ${params.threshold} but got ${failing.join(', ')} for ${params.query}`;
}
