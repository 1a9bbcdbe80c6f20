import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
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
 * 2xx delivers; 408/429/5xx and network failures are retried; any other status (redirects included: the
 * event goes to the configured URL only) is permanent.
 *
 * Plain `node:http(s)` on a keep-alive agent rather than `fetch`: a delivery is one small POST whose body
 * is ignored, and fetch's per-request streams and abort signals (a timeout signal combined with the
 * worker's shutdown signal) cost more CPU than everything else on the bus's delivery path.
 */
export function webhookTarget(options: WebhookTargetOptions): Target {
  const url = new URL(options.url);
  const secure = url.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;
  // No socket limit of its own: the worker never runs more deliveries at once than the target's concurrency.
  const agent = secure ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const post = (headers: Record<string, string>, body: string, signal: AbortSignal): Promise<number> =>
    new Promise((resolve, reject) => {
      const request = send(url, { method: 'POST', headers, agent, signal });
      const timer = setTimeout(
        () => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)),
        options.timeoutMs,
      );
      request.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      request.on('response', (response) => {
        response.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
        response.on('end', () => {
          clearTimeout(timer);
          resolve(response.statusCode ?? 0);
        });
        response.resume(); // the answer's body is not read, only drained so the socket is reused
      });
      request.end(body);
    });
  return {
    async deliver({ event, input, delivery }: DeliveryItem, signal: AbortSignal) {
      const timestamp = String(Math.floor(options.now().getTime() / 1000));
      const headers: Record<string, string> = {
        ...options.headers,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(input.body)),
        'x-rebound-event-id': event.envelope.id,
        'x-rebound-correlation-id': event.correlationId,
        'x-rebound-rule': delivery.rule,
      };
      if (options.secret) {
        headers[TIMESTAMP_HEADER] = timestamp;
        headers[SIGNATURE_HEADER] = signBody(options.secret, timestamp, input.body);
      }
      let status: number;
      try {
        status = await post(headers, input.body, signal);
      } catch (err) {
        throw new DeliveryError(`POST ${redact(options.url)} failed: ${(err as Error).message}`, true, {
          cause: err,
        });
      }
      if (status >= 200 && status < 300) return;
      const retryable = status === 408 || status === 429 || status >= 500;
      throw new DeliveryError(`POST ${redact(options.url)} answered ${status}`, retryable);
    },
  };
}

// URLs may carry credentials in their query or userinfo; errors end up in the DLQ and logs.
function redact(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}
