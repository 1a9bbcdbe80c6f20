import { signBody, SIGNATURE_HEADER, TIMESTAMP_HEADER } from '../../http/auth.ts';
import { DeliveryError, type DeliveryItem, type Target } from './target.ts';

export interface WebhookTargetOptions {
  readonly url: string;
  readonly secret?: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly now: () => Date;
}

/**
 * HTTP POST of the (transformed) event to the one configured URL, HMAC-signed when a secret is set.
 * 2xx delivers; 408/429/5xx and network failures are retried; any other status is permanent.
 */
export function webhookTarget(options: WebhookTargetOptions): Target {
  return {
    async deliver({ event, input, delivery }: DeliveryItem, signal: AbortSignal) {
      const timestamp = String(Math.floor(options.now().getTime() / 1000));
      const headers: Record<string, string> = {
        ...options.headers,
        'content-type': 'application/json',
        'x-rebound-event-id': event.envelope.id,
        'x-rebound-correlation-id': event.correlationId,
        'x-rebound-rule': delivery.rule,
      };
      if (options.secret) {
        headers[TIMESTAMP_HEADER] = timestamp;
        headers[SIGNATURE_HEADER] = signBody(options.secret, timestamp, input.body);
      }
      let response: Response;
      try {
        response = await fetch(options.url, {
          method: 'POST',
          headers,
          body: input.body,
          signal: AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs)]),
          redirect: 'error',
        });
      } catch (err) {
        throw new DeliveryError(`POST ${redact(options.url)} failed: ${(err as Error).message}`, true, {
          cause: err,
        });
      }
      await response.body?.cancel();
      if (response.ok) return;
      const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
      throw new DeliveryError(`POST ${redact(options.url)} answered ${response.status}`, retryable);
    },
  };
}

// URLs may carry credentials in their query or userinfo; errors end up in the DLQ and logs.
function redact(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}
