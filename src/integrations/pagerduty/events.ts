import { z } from 'zod';
import { IntegrationError, isRetryableStatus, parseRetryAfter } from '../errors.ts';
import { excerpt, httpCall, joinUrl, tryParseJson, type FetchLike } from '../http.ts';

/** PagerDuty Events API v2: one event, as `POST /v2/enqueue` takes it. */
export interface PagerDutyEvent {
  readonly routing_key: string;
  readonly event_action: 'trigger' | 'acknowledge' | 'resolve';
  /** At most 255 characters; the same key acknowledges and resolves what it triggered. */
  readonly dedup_key: string;
  readonly payload?: {
    /** At most 1024 characters. */
    readonly summary: string;
    readonly source: string;
    readonly severity: 'critical' | 'error' | 'warning' | 'info';
    readonly timestamp?: string;
    readonly component?: string;
    readonly group?: string;
    readonly class?: string;
    readonly custom_details?: Record<string, unknown>;
  };
  readonly links?: readonly { readonly href: string; readonly text: string }[];
  readonly client?: string;
  readonly client_url?: string;
}

export const PAGERDUTY_LIMITS = { summary: 1024, dedupKey: 255 } as const;

export interface EnqueueOptions {
  /** e.g. `https://events.pagerduty.com`; only this base URL is called. */
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  readonly fetch?: FetchLike;
}

const accepted = z.object({
  status: z.string(),
  message: z.string().optional(),
  dedup_key: z.string().optional(),
});
const rejected = z.object({ message: z.string().optional(), errors: z.array(z.string()).optional() });

/**
 * Enqueues one event. 202 → the dedup key PagerDuty uses; 400 → permanent (the event is invalid);
 * 429 (about 120 events/min per key) and 5xx → retryable with backoff.
 */
export async function enqueuePagerDutyEvent(event: PagerDutyEvent, options: EnqueueOptions): Promise<string> {
  const label = `PagerDuty ${event.event_action}`;
  const answer = await httpCall({
    service: 'pagerduty',
    method: 'POST',
    url: joinUrl(options.baseUrl, '/v2/enqueue'),
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(event),
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    fetch: options.fetch,
    label,
  });
  const body = tryParseJson(answer.text);
  if (answer.status === 202 || (answer.status >= 200 && answer.status < 300)) {
    const ok = accepted.safeParse(body);
    return (ok.success ? ok.data.dedup_key : undefined) ?? event.dedup_key;
  }
  const detail = rejected.safeParse(body);
  const reasons = detail.success
    ? [detail.data.message, ...(detail.data.errors ?? [])].filter(Boolean).join('; ')
    : excerpt(answer.text);
  const retryable = isRetryableStatus(answer.status);
  const hint = retryable
    ? 'PagerDuty is throttling or unavailable; retried with backoff'
    : 'the event was refused; check the routing key and payload';
  throw new IntegrationError(`${label}: HTTP ${answer.status}: ${reasons || 'no detail'}; ${hint}`, {
    service: 'pagerduty',
    kind: 'http',
    retryable,
    status: answer.status,
    retryAfterMs: parseRetryAfter(answer.headers.get('retry-after')),
  });
}
