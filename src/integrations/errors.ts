/**
 * Typed failures of outbound integrations (Prometheus, Alertmanager, Slack, PagerDuty, webhooks, SMTP).
 * Each carries its fate — `retryable` and, when the peer said so, `retryAfterMs` — so the bus dispatcher and
 * ASL Retry policies decide without reading messages. Messages never contain secrets (URLs with tokens,
 * routing keys): they name the service and what to do next.
 */

export type IntegrationService = 'prometheus' | 'alertmanager' | 'slack' | 'pagerduty' | 'webhook' | 'smtp';

/**
 * - `network`: the connection failed (refused, reset, DNS); retryable.
 * - `timeout`: our own deadline fired; retryable.
 * - `aborted`: the caller cancelled; never retried by us.
 * - `http`: the peer answered a non-success status.
 * - `api`: the peer answered with its own error envelope (e.g. Prometheus `errorType`).
 * - `bad_response`: the answer was not the documented shape; retrying rarely helps.
 * - `refused`: we refused to send (e.g. a URL outside the configured ones).
 */
export type IntegrationFailureKind =
  'network' | 'timeout' | 'aborted' | 'http' | 'api' | 'bad_response' | 'refused';

export interface IntegrationErrorOptions {
  readonly service: IntegrationService;
  readonly kind: IntegrationFailureKind;
  readonly retryable: boolean;
  readonly status?: number;
  /** The peer's own error class, e.g. Prometheus `bad_data`, Slack `invalid_payload`. */
  readonly errorType?: string;
  readonly retryAfterMs?: number;
  readonly cause?: unknown;
}

export class IntegrationError extends Error {
  readonly service: IntegrationService;
  readonly kind: IntegrationFailureKind;
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly errorType: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: IntegrationErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    // ASL-style name so a runbook can `Catch`/`Retry` it with ErrorEquals.
    this.name = 'Rebound.IntegrationFailed';
    this.service = options.service;
    this.kind = options.kind;
    this.retryable = options.retryable;
    this.status = options.status;
    this.errorType = options.errorType;
    this.retryAfterMs = options.retryAfterMs;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      service: this.service,
      kind: this.kind,
      retryable: this.retryable,
      ...(this.status === undefined ? {} : { status: this.status }),
      ...(this.errorType === undefined ? {} : { errorType: this.errorType }),
      ...(this.retryAfterMs === undefined ? {} : { retryAfterMs: this.retryAfterMs }),
    };
  }
}

export function isIntegrationError(value: unknown): value is IntegrationError {
  return value instanceof IntegrationError;
}

/** The usual HTTP fate: 5xx and 429 may succeed later; every other status will not. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

/** Parses Retry-After (delta seconds or an HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(value: string | null, now: Date = new Date()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now.getTime());
}
