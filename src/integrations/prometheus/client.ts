import { z } from 'zod';
import { IntegrationError } from '../errors.ts';
import { httpCall, joinUrl, type FetchLike } from '../http.ts';
import type { PrometheusConfig } from './config.ts';
import { decodePrometheusAnswer } from './envelope.ts';

/** One sample of an instant vector: the series labels and its value as Prometheus formats it. */
export interface PrometheusSample {
  readonly metric: Readonly<Record<string, string>>;
  readonly timestamp: number;
  /** Prometheus sends values as strings ("NaN", "+Inf" included); decoded to a number. */
  readonly value: number;
}

export type InstantQueryResult =
  | {
      readonly resultType: 'vector';
      readonly samples: readonly PrometheusSample[];
      readonly warnings: readonly string[];
    }
  | {
      readonly resultType: 'scalar';
      readonly samples: readonly PrometheusSample[];
      readonly warnings: readonly string[];
    };

/** An alert as `GET /api/v1/alerts` reports it (pending or firing). */
export interface PrometheusAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly state: string;
  readonly activeAt?: string;
  readonly value?: string;
}

export interface RequestOptions {
  readonly signal?: AbortSignal;
}

const samplePair = z.tuple([z.number(), z.string()]);
const vectorData = z.object({
  resultType: z.literal('vector'),
  result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: samplePair })),
});
const scalarData = z.object({ resultType: z.literal('scalar'), result: samplePair });
const alertsData = z.object({
  alerts: z.array(
    z.object({
      labels: z.record(z.string(), z.string()),
      annotations: z.record(z.string(), z.string()).default({}),
      state: z.string(),
      activeAt: z.string().optional(),
      value: z.string().optional(),
    }),
  ),
});

/** Read-only client of the Prometheus HTTP API (`/api/v1`), bound to one configured base URL. */
export class PrometheusClient {
  readonly #config: PrometheusConfig;
  readonly #fetch: FetchLike | undefined;

  constructor(config: PrometheusConfig, options: { fetch?: FetchLike } = {}) {
    this.#config = config;
    this.#fetch = options.fetch;
  }

  /** Runs an instant query; only vector and scalar results are accepted (ranges belong to range queries). */
  async query(promql: string, options: RequestOptions & { time?: Date } = {}): Promise<InstantQueryResult> {
    const params = new URLSearchParams({ query: promql });
    if (options.time) params.set('time', (options.time.getTime() / 1000).toFixed(3));
    const { data, warnings } = await this.#get(
      '/api/v1/query',
      params,
      'Prometheus instant query',
      options.signal,
    );
    const vector = vectorData.safeParse(data);
    if (vector.success) {
      const samples = vector.data.result.map((r) => toSample(r.metric, r.value));
      return { resultType: 'vector', samples, warnings };
    }
    const scalar = scalarData.safeParse(data);
    if (scalar.success) {
      return { resultType: 'scalar', samples: [toSample({}, scalar.data.result)], warnings };
    }
    const type = (data as { resultType?: unknown } | null)?.resultType;
    throw new IntegrationError(
      `Prometheus instant query returned ${String(type)}; write a query that yields an instant vector or a scalar`,
      { service: 'prometheus', kind: 'bad_response', retryable: false },
    );
  }

  /** Lists the alerts Prometheus is currently evaluating as pending or firing. */
  async alerts(options: RequestOptions = {}): Promise<readonly PrometheusAlert[]> {
    const { data } = await this.#get('/api/v1/alerts', undefined, 'Prometheus alerts', options.signal);
    const parsed = alertsData.safeParse(data);
    if (!parsed.success) {
      throw new IntegrationError('Prometheus alerts: answer does not match the documented shape', {
        service: 'prometheus',
        kind: 'bad_response',
        retryable: false,
      });
    }
    return parsed.data.alerts;
  }

  async #get(path: string, params: URLSearchParams | undefined, label: string, signal?: AbortSignal) {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#config.bearerToken) headers['authorization'] = `Bearer ${this.#config.bearerToken}`;
    const answer = await httpCall({
      service: 'prometheus',
      method: 'GET',
      url: joinUrl(this.#config.url, path, params),
      headers,
      timeoutMs: this.#config.timeoutMs,
      signal,
      fetch: this.#fetch,
      label,
    });
    return decodePrometheusAnswer(answer, label);
  }
}

function toSample(metric: Record<string, string>, pair: readonly [number, string]): PrometheusSample {
  return { metric, timestamp: pair[0], value: parseSampleValue(pair[1]) };
}

/** Prometheus writes infinities as `+Inf`/`-Inf`, which `Number()` does not read. */
export function parseSampleValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}
