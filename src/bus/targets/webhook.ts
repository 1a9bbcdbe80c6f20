import { Pool, type Dispatcher } from 'undici';
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
  // The connect is bounded too: undici hands a request its controller only once it has a socket.
  const pool = new Pool(url.origin, { connectTimeout: options.timeoutMs });
  const basic = url.username
    ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
    : undefined;
  const inFlight = new InFlight(options.timeoutMs);
  const post = (headers: Record<string, string>, body: string, shutdown: AbortSignal) =>
    new Promise<Answer>((resolve, reject) => {
      // undici's dispatch API, not `pool.request`: no response stream, promise or abort signal per
      // request (the answer's body is drained, never read), which was a fifth of the bus's delivery CPU.
      const request = inFlight.add(shutdown, reject);
      if (!request) return;
      let status = 0;
      let retryAfter: string | undefined;
      pool.dispatch(
        { path, method: 'POST', headers, body },
        {
          onRequestStart: (controller) => request.started(controller),
          onResponseStart: (_, statusCode, responseHeaders) => {
            status = statusCode;
            const value = responseHeaders['retry-after'];
            retryAfter = Array.isArray(value) ? value[0] : value;
          },
          onResponseData: () => undefined,
          onResponseEnd: () => {
            if (request.settle()) resolve({ status, retryAfter });
          },
          onResponseError: (_, err) => {
            if (request.settle()) reject(err);
          },
        },
      );
    });
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
      let answer: Answer;
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

interface Answer {
  readonly status: number;
  readonly retryAfter: string | undefined;
}

/** One POST under way, until it settles: by its answer, by its deadline or by the worker's shutdown. */
interface Request {
  /** undici has a socket for it: an abort from now on reaches the connection. */
  started(controller: Dispatcher.DispatchController): void;
  /** Marks it settled; false when a deadline or the shutdown settled it already. */
  settle(): boolean;
}

/**
 * The POSTs under way to one target, each with its deadline, and the worker shutdowns they listen to.
 * Every POST of a target has the same timeout, so deadlines come in the order requests start: one timer,
 * armed for the oldest, serves them all (a timer and an abort listener per request cost more CPU than
 * the rest of the delivery's bookkeeping).
 */
class InFlight {
  private readonly requests = new Map<object, { deadline: number; abort: (reason: Error) => void }>();
  private readonly listening = new WeakSet<AbortSignal>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {}

  /** Tracks a new POST; undefined (after `reject`) when the shutdown has begun already. */
  add(shutdown: AbortSignal, reject: (reason: Error) => void): Request | undefined {
    if (shutdown.aborted) {
      reject(reasonOf(shutdown));
      return undefined;
    }
    this.listen(shutdown);
    const key = {};
    let controller: Dispatcher.DispatchController | undefined;
    let abortedWith: Error | undefined;
    const settle = () => this.requests.delete(key);
    // An abort settles the delivery at once, even while undici is still connecting; the connection is
    // aborted as soon as undici hands the request its controller.
    const abort = (reason: Error) => {
      if (!settle()) return;
      abortedWith = reason;
      controller?.abort(reason);
      reject(reason);
    };
    this.requests.set(key, { deadline: performance.now() + this.timeoutMs, abort });
    this.arm();
    return {
      started: (c) => {
        controller = c;
        if (abortedWith) c.abort(abortedWith);
      },
      settle,
    };
  }

  private listen(shutdown: AbortSignal): void {
    if (this.listening.has(shutdown)) return;
    this.listening.add(shutdown);
    shutdown.addEventListener(
      'abort',
      () => {
        for (const { abort } of [...this.requests.values()]) abort(reasonOf(shutdown));
      },
      { once: true },
    );
  }

  private arm(): void {
    if (this.timer) return;
    const oldest = this.requests.values().next();
    if (oldest.done) return;
    this.timer = setTimeout(() => this.expire(), Math.max(0, oldest.value.deadline - performance.now()));
    this.timer.unref(); // a request in flight holds the process open through its socket
  }

  private expire(): void {
    this.timer = undefined;
    const now = performance.now();
    for (const [, request] of this.requests) {
      if (request.deadline > now) break;
      request.abort(new Error(`no answer within ${this.timeoutMs} ms`));
    }
    this.arm();
  }
}

function reasonOf(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(String(reason ?? 'aborted'));
}

// URLs may carry credentials in their query or userinfo; errors end up in the DLQ and logs.
function redact(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}
