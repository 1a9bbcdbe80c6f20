import { Pool } from 'undici';
import { parseRetryAfter } from '../../integrations/errors.ts';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from '../../integrations/webhook/signature.ts';
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
 * On an undici connection pool rather than `fetch` or `node:http`: a delivery is one small POST whose body
 * is ignored, and fetch's per-request streams and abort signals, or node:http's ClientRequest machinery,
 * cost more CPU than everything else on the bus's delivery path. Credentials in the URL are sent as basic
 * auth, as `node:http` sends them.
 */
export function webhookTarget(options: WebhookTargetOptions): Target {
  const url = new URL(options.url);
  const path = `${url.pathname}${url.search}`;
  // No connection limit of its own: the worker never runs more deliveries at once than the target's
  // concurrency. Idle connections close after undici's keep-alive timeout.
  // The connect is bounded too: undici hands a request its abort only once it is written to a socket.
  const pool = new Pool(url.origin, { connectTimeout: options.timeoutMs });
  const basic = url.username
    ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
    : undefined;
  const post = async (headers: Record<string, string>, body: string, shutdown: AbortSignal) => {
    // One controller per request, aborted by our own timer or by the worker's shutdown. (undici's
    // headersTimeout is not armed while the request body is still being written, so it is not enough.)
    const controller = new AbortController();
    const stop = () => controller.abort(shutdown.reason);
    if (shutdown.aborted) stop();
    else shutdown.addEventListener('abort', stop, { once: true });
    const timer = setTimeout(
      () => controller.abort(new Error(`no answer within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    // An abort settles the delivery at once, even while undici is still connecting.
    let onAbort: () => void = () => undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(controller.signal.reason);
      if (controller.signal.aborted)
        onAbort(); // shut down before this delivery began
      else controller.signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const request = pool.request({ path, method: 'POST', headers, body, signal: controller.signal });
      request.catch(() => undefined); // settles after the abort when the race is already lost
      const response = await Promise.race([request, aborted]);
      await response.body.dump(); // the answer's body is not read, only drained so the connection is reused
      const retryAfter = response.headers['retry-after'];
      return {
        status: response.statusCode,
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
      };
    } finally {
      clearTimeout(timer);
      shutdown.removeEventListener('abort', stop);
      controller.signal.removeEventListener('abort', onAbort);
    }
  };
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
      if (basic && !Object.keys(headers).some((h) => h.toLowerCase() === 'authorization'))
        headers['authorization'] = basic;
      if (options.secret) {
        headers[TIMESTAMP_HEADER] = timestamp;
        headers[SIGNATURE_HEADER] = signWebhook(options.secret, timestamp, input.body);
      }
      let answer: { status: number; retryAfter: string | undefined };
      try {
        answer = await post(headers, input.body, signal);
      } catch (err) {
        throw new DeliveryError(`POST ${redact(options.url)} failed: ${(err as Error).message}`, true, {
          cause: err,
        });
      }
      const { status } = answer;
      if (status >= 200 && status < 300) return;
      const retryable = status === 408 || status === 429 || status >= 500;
      throw new DeliveryError(`POST ${redact(options.url)} answered ${status}`, retryable, {
        retryAfterMs: retryable ? parseRetryAfter(answer.retryAfter ?? null, options.now()) : undefined,
      });
    },
    // Requests already sent finish first; a reload's new target has a pool of its own.
    close: () => pool.close(),
  };
}

// URLs may carry credentials in their query or userinfo; errors end up in the DLQ and logs.
function redact(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}
