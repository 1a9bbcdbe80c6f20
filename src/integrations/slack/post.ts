import { IntegrationError, isRetryableStatus, parseRetryAfter } from '../errors.ts';
import { excerpt, httpCall, type FetchLike } from '../http.ts';

/** A Slack message as incoming webhooks and `response_url` take it. */
export interface SlackMessage {
  /** Fallback text for notifications and screen readers; always set. */
  readonly text: string;
  readonly blocks?: readonly unknown[];
  /** `response_url` only: replace the message the button was on. */
  readonly replace_original?: boolean;
  /** `response_url` only: `ephemeral` shows the reply to the clicking user alone. */
  readonly response_type?: 'ephemeral' | 'in_channel';
}

export interface SlackPostOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  readonly fetch?: FetchLike;
  /** Names the endpoint in errors; the URL itself is a secret and never appears. */
  readonly label: string;
}

/**
 * POSTs a message to an incoming webhook or a `response_url`. Slack answers 200 `ok`; other 4xx are permanent
 * (`invalid_payload`, `no_service`, `channel_not_found`…); 429 carries Retry-After; 5xx may pass later.
 */
export async function postSlackMessage(
  url: string,
  message: SlackMessage,
  options: SlackPostOptions,
): Promise<void> {
  const answer = await httpCall({
    service: 'slack',
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(message),
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    fetch: options.fetch,
    label: options.label,
  });
  if (answer.status >= 200 && answer.status < 300) return;
  const errorType = excerpt(answer.text, 80) || undefined;
  const retryable = isRetryableStatus(answer.status);
  const hint = retryable
    ? 'Slack will accept it later; it is retried'
    : answer.status === 404 || answer.status === 403
      ? 'the webhook was revoked or its channel archived; create a new incoming webhook'
      : 'the message was refused; check its blocks against Block Kit limits';
  throw new IntegrationError(`${options.label}: HTTP ${answer.status} ${errorType ?? ''}; ${hint}`, {
    service: 'slack',
    kind: 'http',
    retryable,
    status: answer.status,
    errorType,
    retryAfterMs: parseRetryAfter(answer.headers.get('retry-after')),
  });
}
