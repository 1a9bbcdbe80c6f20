import { z } from 'zod';
import { IntegrationError, isRetryableStatus, parseRetryAfter } from '../errors.ts';
import { excerpt, httpCall, joinUrl, tryParseJson, type FetchLike, type HttpAnswer } from '../http.ts';
import type { AlertmanagerConfig } from './config.ts';
import { formatMatcher, type Matcher } from './matchers.ts';

/** An alert as `GET /api/v2/alerts` reports it; resolved alerts are no longer listed. */
export interface AlertmanagerAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly fingerprint: string;
  readonly status: {
    readonly state: string;
    readonly silencedBy: readonly string[];
    readonly inhibitedBy: readonly string[];
  };
}

export interface ListAlertsOptions {
  readonly filter: readonly Matcher[];
  /** Defaults follow Alertmanager: active, silenced and inhibited alerts are all listed. */
  readonly active?: boolean;
  readonly silenced?: boolean;
  readonly inhibited?: boolean;
  readonly signal?: AbortSignal;
}

export interface NewSilence {
  readonly matchers: readonly Matcher[];
  readonly startsAt: Date;
  readonly endsAt: Date;
  readonly createdBy: string;
  readonly comment: string;
}

const alertsBody = z.array(
  z.object({
    labels: z.record(z.string(), z.string()),
    annotations: z.record(z.string(), z.string()).default({}),
    startsAt: z.string(),
    endsAt: z.string(),
    fingerprint: z.string(),
    status: z.object({
      state: z.string(),
      silencedBy: z.array(z.string()).default([]),
      inhibitedBy: z.array(z.string()).default([]),
    }),
  }),
);
const silenceBody = z.object({ silenceID: z.string().min(1) });

/** Client of Alertmanager's API v2, bound to one configured base URL. */
export class AlertmanagerClient {
  readonly #config: AlertmanagerConfig;
  readonly #fetch: FetchLike | undefined;

  constructor(config: AlertmanagerConfig, options: { fetch?: FetchLike } = {}) {
    this.#config = config;
    this.#fetch = options.fetch;
  }

  /** Lists the alerts Alertmanager holds that match every filter matcher. */
  async listAlerts(options: ListAlertsOptions): Promise<readonly AlertmanagerAlert[]> {
    const params = new URLSearchParams();
    for (const m of options.filter) params.append('filter', formatMatcher(m));
    for (const key of ['active', 'silenced', 'inhibited'] as const) {
      const value = options[key];
      if (value !== undefined) params.set(key, String(value));
    }
    const label = 'Alertmanager list alerts';
    const answer = await this.#call(
      'GET',
      joinUrl(this.#config.url, '/api/v2/alerts', params),
      label,
      options.signal,
    );
    const parsed = alertsBody.safeParse(decode(answer, label));
    if (!parsed.success) throw badShape(label);
    return parsed.data;
  }

  /** Creates a silence and returns its id. */
  async createSilence(silence: NewSilence, options: { signal?: AbortSignal } = {}): Promise<string> {
    const body = JSON.stringify({
      matchers: silence.matchers.map((m) => ({
        name: m.name,
        value: m.value,
        isRegex: m.isRegex,
        isEqual: m.isEqual,
      })),
      startsAt: silence.startsAt.toISOString(),
      endsAt: silence.endsAt.toISOString(),
      createdBy: silence.createdBy,
      comment: silence.comment,
    });
    const label = 'Alertmanager create silence';
    const url = joinUrl(this.#config.url, '/api/v2/silences');
    const answer = await this.#call('POST', url, label, options.signal, body);
    const parsed = silenceBody.safeParse(decode(answer, label));
    if (!parsed.success) throw badShape(label);
    return parsed.data.silenceID;
  }

  #call(method: 'GET' | 'POST', url: string, label: string, signal?: AbortSignal, body?: string) {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.#config.bearerToken) headers['authorization'] = `Bearer ${this.#config.bearerToken}`;
    return httpCall({
      service: 'alertmanager',
      method,
      url,
      headers,
      body,
      timeoutMs: this.#config.timeoutMs,
      signal,
      fetch: this.#fetch,
      label,
    });
  }
}

// Alertmanager v2 answers errors with a JSON string body (e.g. "bad matcher format: …") and a status code.
function decode(answer: HttpAnswer, label: string): unknown {
  const body = tryParseJson(answer.text);
  if (answer.status >= 200 && answer.status < 300) return body;
  const detail = typeof body === 'string' ? body : excerpt(answer.text) || 'empty body';
  const retryable = isRetryableStatus(answer.status);
  const hint = retryable
    ? 'retry shortly'
    : answer.status === 400
      ? 'fix the request'
      : 'check the URL and permissions';
  throw new IntegrationError(`${label}: HTTP ${answer.status}: ${detail}; ${hint}`, {
    service: 'alertmanager',
    kind: 'http',
    retryable,
    status: answer.status,
    retryAfterMs: parseRetryAfter(answer.headers.get('retry-after')),
  });
}

function badShape(label: string): IntegrationError {
  return new IntegrationError(
    `${label}: answer does not match Alertmanager API v2; check the URL points at it`,
    {
      service: 'alertmanager',
      kind: 'bad_response',
      retryable: false,
    },
  );
}
