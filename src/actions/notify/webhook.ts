import { randomUUID } from 'node:crypto';
import { IntegrationError, isRetryableStatus, parseRetryAfter } from '../../integrations/errors.ts';
import { excerpt, httpCall, type FetchLike } from '../../integrations/http.ts';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from '../../integrations/webhook/signature.ts';
import type { WriteRequest } from '../types.ts';
import type { ChannelNotifier, Delivery, Notification, SendOptions } from './notification.ts';

export interface WebhookNotifierOptions {
  readonly url: string;
  readonly secret: string;
  readonly timeoutMs: number;
  readonly fetch?: FetchLike;
  readonly now?: () => Date;
}

export const DELIVERY_HEADER = 'x-rebound-delivery';

/** The JSON body a webhook receiver gets. */
export interface WebhookBody {
  readonly id: string;
  readonly type: `incident.${Notification['event']}`;
  readonly time: string;
  readonly notification: Notification;
}

/**
 * POSTs HMAC-signed JSON to one configured URL (redirects not followed). The delivery id is stable across
 * retries of the same delivery (the caller's idempotency key) so a receiver can drop duplicates.
 */
export class WebhookNotifier implements ChannelNotifier {
  readonly channel = 'webhook' as const;
  readonly #options: WebhookNotifierOptions;

  constructor(options: WebhookNotifierOptions) {
    this.#options = options;
  }

  preview(n: Notification, options: SendOptions = {}): WriteRequest {
    return this.#request(this.#body(n, options));
  }

  async send(n: Notification, options: SendOptions = {}): Promise<Delivery> {
    const body = this.#body(n, options);
    const raw = JSON.stringify(body);
    const timestamp = Math.floor((this.#options.now?.() ?? new Date()).getTime() / 1000);
    const answer = await httpCall({
      service: 'webhook',
      method: 'POST',
      url: this.#options.url,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'rebound-webhook/1',
        [TIMESTAMP_HEADER]: String(timestamp),
        [SIGNATURE_HEADER]: signWebhook(this.#options.secret, timestamp, raw),
        [DELIVERY_HEADER]: body.id,
      },
      body: raw,
      timeoutMs: this.#options.timeoutMs,
      signal: options.signal,
      fetch: this.#options.fetch,
      label: 'notification webhook',
    });
    if (answer.status < 200 || answer.status >= 300) {
      const retryable = isRetryableStatus(answer.status);
      throw new IntegrationError(
        `notification webhook: HTTP ${answer.status} ${excerpt(answer.text, 120)}; ${retryable ? 'retried later' : 'the receiver refused it; check its logs and the shared secret'}`,
        {
          service: 'webhook',
          kind: 'http',
          retryable,
          status: answer.status,
          retryAfterMs: parseRetryAfter(answer.headers.get('retry-after')),
        },
      );
    }
    return { channel: 'webhook', request: this.#request(body), reference: body.id };
  }

  #request(body: WebhookBody): WriteRequest {
    // The record (timeline, execution output) keeps the origin only: a query string often carries a token,
    // and the path of a capability URL (`…/webhooks/ID/TOKEN`) is the secret itself.
    const url = new URL(this.#options.url);
    return { method: 'POST', path: url.origin, contentType: 'application/json', body };
  }

  #body(n: Notification, options: SendOptions): WebhookBody {
    return {
      id: options.idempotencyKey ?? randomUUID(),
      type: `incident.${n.event}`,
      time: n.occurredAt ?? (this.#options.now?.() ?? new Date()).toISOString(),
      notification: n,
    };
  }
}
