import { IntegrationError, isRetryableStatus, parseRetryAfter } from '../errors.ts';
import { excerpt, tryParseJson, type HttpAnswer } from '../http.ts';

/**
 * Prometheus answers every API call in one envelope: `{status: "success", data, warnings?}` or
 * `{status: "error", errorType, error, warnings?}`. Status codes: 400 bad parameters, 422 expression cannot be
 * executed, 503 query timed out or aborted. This module turns an HTTP answer into `data` or a typed error.
 */

export interface PrometheusSuccess {
  readonly data: unknown;
  readonly warnings: readonly string[];
}

// errorType values from prometheus web/api/v1: which ones a retry can fix.
const RETRYABLE_ERROR_TYPES = new Set(['timeout', 'canceled', 'unavailable', 'internal']);

const HINTS: Record<string, string> = {
  bad_data: 'fix the query or its parameters',
  execution: 'the expression cannot be executed; check the query against the data',
  timeout: 'the query timed out; simplify it or raise the Prometheus query timeout',
  canceled: 'the query was cancelled; retry',
  unavailable: 'Prometheus is not ready; retry shortly',
  internal: 'Prometheus reported an internal error; retry, then check its logs',
  not_found: 'check the Prometheus URL and API path',
};

/** Decodes a Prometheus API answer: the `data` of a success, or an `IntegrationError` describing the failure. */
export function decodePrometheusAnswer(answer: HttpAnswer, label: string): PrometheusSuccess {
  const body = tryParseJson(answer.text);
  if (!isEnvelope(body)) {
    const retryable = isRetryableStatus(answer.status);
    throw new IntegrationError(
      `${label}: HTTP ${answer.status} without a Prometheus API envelope (${excerpt(answer.text) || 'empty body'}); ` +
        'check the URL points at Prometheus',
      {
        service: 'prometheus',
        kind: answer.status >= 400 ? 'http' : 'bad_response',
        retryable,
        status: answer.status,
        // A proxy in front of Prometheus (429, 503) may say when to come back.
        ...(retryable ? { retryAfterMs: parseRetryAfter(answer.headers.get('retry-after')) } : {}),
      },
    );
  }
  const warnings = Array.isArray(body.warnings)
    ? body.warnings.filter((w): w is string => typeof w === 'string')
    : [];
  if (body.status === 'success' && answer.status >= 200 && answer.status < 300) {
    return { data: body.data, warnings };
  }
  const errorType = typeof body.errorType === 'string' ? body.errorType : 'unknown';
  const message = typeof body.error === 'string' ? body.error : 'no error message';
  const retryable =
    RETRYABLE_ERROR_TYPES.has(errorType) || (errorType === 'unknown' && isRetryableStatus(answer.status));
  const hint = HINTS[errorType] ?? (retryable ? 'retry shortly' : 'check the request');
  throw new IntegrationError(
    `${label}: Prometheus ${errorType} (HTTP ${answer.status}): ${message}; ${hint}`,
    {
      service: 'prometheus',
      kind: 'api',
      retryable,
      status: answer.status,
      errorType,
    },
  );
}

interface Envelope {
  status: 'success' | 'error';
  data?: unknown;
  errorType?: unknown;
  error?: unknown;
  warnings?: unknown;
}

function isEnvelope(value: unknown): value is Envelope {
  if (typeof value !== 'object' || value === null) return false;
  const status = (value as { status?: unknown }).status;
  return status === 'success' || status === 'error';
}
