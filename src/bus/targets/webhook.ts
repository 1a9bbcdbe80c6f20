import { Pool, type Dispatcher } from 'undici';
import { parseRetryAfter } from '../../integrations/errors.ts';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from '../../integrations/webhook/signature.ts';
import { authorizeFromUserinfo, scrubUrls, urlOrigin, withoutUserinfo } from '../../integrations/urls.ts';
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
  const { url: plain, authorization: basic } = withoutUserinfo(options.url);
  // The configured headers, with the URL's credentials unless they authenticate already: once, not per POST.
  const configured = authorizeFromUserinfo(basic, options.headers);
  const url = new URL(plain);
  const path = `${url.pathname}${url.search}`;
  // What messages (logs, the DLQ) call it: the origin, since the path of a capability URL is its secret.
  const shown = urlOrigin(options.url);
  // No connection limit of its own: the worker never runs more deliveries at once than the target's
  // concurrency. Idle connections close after undici's keep-alive timeout.
  // The connect is bounded too: undici hands a request its controller only once it has a socket. The
  // whole POST is bounded by our deadline (InFlight), so undici's own headers and body timeouts are off:
  // each would be a timer object per request that its timer wheel keeps for up to a second, long enough to
  // reach the old generation and cost a full garbage collection later.
  const pool = new Pool(url.origin, { connectTimeout: options.timeoutMs, headersTimeout: 0, bodyTimeout: 0 });
  const inFlight = new InFlight(options.timeoutMs);
  const post = (headers: Record<string, string>, body: string, shutdown: AbortSignal) =>
    new Promise<Answer>((resolve, reject) => {
      if (shutdown.aborted) return reject(reasonOf(shutdown));
      // undici's dispatch API, not `pool.request`: no response stream, promise or abort signal per
      // request (the answer's body is drained, never read), which was a fifth of the bus's delivery CPU.
      pool.dispatch({ path, method: 'POST', headers, body }, inFlight.add(shutdown, resolve, reject));
    });
  return {
    async deliver({ event, input, delivery }: DeliveryItem, signal: AbortSignal) {
      const timestamp = String(Math.floor(options.now().getTime() / 1000));
      const headers: Record<string, string> = {
        ...configured,
        'content-type': 'application/json',
        'x-rebound-event-id': event.envelope.id,
        'x-rebound-correlation-id': event.correlationId,
        'x-rebound-rule': delivery.rule,
      };
      if (options.secret) {
        headers[TIMESTAMP_HEADER] = timestamp;
        headers[SIGNATURE_HEADER] = signWebhook(options.secret, timestamp, input.body);
      }
      let answer: Answer;
      try {
        answer = await post(headers, input.body, signal);
      } catch (err) {
        throw new DeliveryError(`POST to ${shown} failed: ${scrubUrls((err as Error).message)}`, true, {
          cause: err,
        });
      }
      const { status } = answer;
      if (status >= 200 && status < 300) return;
      const retryable = status === 408 || status === 429 || status >= 500;
      throw new DeliveryError(`POST to ${shown} answered ${status}`, retryable, {
        retryAfterMs: retryable ? parseRetryAfter(answer.retryAfter ?? null, options.now()) : undefined,
      });
    },
    // Requests already sent finish first (their deadlines still hold); a reload's new target has a pool of
    // its own.
    close: () => {
      inFlight.detach();
      return pool.close();
    },
  };
}

interface Answer {
  readonly status: number;
  readonly retryAfter: string | undefined;
}

/**
 * One POST under way, as undici's dispatch handler, until it settles: by its answer, by its deadline or by
 * the worker's shutdown, whichever comes first. An abort settles the delivery at once, even while undici is
 * still connecting; the connection is aborted as soon as undici hands the request its controller.
 */
class Post implements Dispatcher.DispatchHandler {
  /** Answered, timed out or aborted: InFlight forgets it. */
  settled = false;
  private status = 0;
  private retryAfter: string | undefined;
  private controller: Dispatcher.DispatchController | undefined;
  private abortedWith: Error | undefined;

  constructor(
    private readonly inFlight: InFlight,
    /** The worker's shutdown this POST listens to. */
    readonly shutdown: AbortSignal,
    readonly deadline: number,
    private readonly resolve: (answer: Answer) => void,
    private readonly reject: (reason: Error) => void,
  ) {}

  abort(reason: Error): void {
    if (!this.inFlight.settle(this)) return;
    this.abortedWith = reason;
    this.reject(reason); // first: settled whatever the connection's abort does
    this.controller?.abort(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortedWith) controller.abort(this.abortedWith);
  }

  onResponseStart(
    _: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    this.status = statusCode;
    const value = headers['retry-after'];
    this.retryAfter = Array.isArray(value) ? value[0] : value;
  }

  onResponseData(): void {}

  onResponseEnd(): void {
    if (this.inFlight.settle(this)) this.resolve({ status: this.status, retryAfter: this.retryAfter });
  }

  onResponseError(_: Dispatcher.DispatchController, err: Error): void {
    if (this.inFlight.settle(this)) this.reject(err);
  }
}

/**
 * The POSTs under way to one target, and the worker shutdowns they listen to. Every POST of a target has
 * the same timeout, so deadlines come in the order requests start: one timer, armed for the oldest, serves
 * them all (a timer and an abort listener per request cost more CPU than the rest of the delivery's
 * bookkeeping).
 */
class InFlight {
  /**
   * In start order, so in deadline order, settled ones included until they are swept out: an array, not a
   * `Set`, whose churn would keep settled POSTs alive through the young generation (see Dictionary).
   */
  private posts: Post[] = [];
  /** Settled POSTs still in `posts`. */
  private settledCount = 0;
  /** Our listener on each worker shutdown signal seen, removed when the target closes. */
  private readonly listening = new Map<AbortSignal, () => void>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {}

  add(shutdown: AbortSignal, resolve: (answer: Answer) => void, reject: (reason: Error) => void): Post {
    if (!this.listening.has(shutdown)) {
      const listener = () => this.abortAll(shutdown);
      this.listening.set(shutdown, listener);
      shutdown.addEventListener('abort', listener, { once: true });
    }
    const post = new Post(this, shutdown, performance.now() + this.timeoutMs, resolve, reject);
    this.posts.push(post);
    this.arm();
    return post;
  }

  /** Forgets a POST; false when it had settled already. */
  settle(post: Post): boolean {
    if (post.settled) return false;
    post.settled = true;
    this.settledCount += 1;
    // Settled POSTs leave from the front at once, and from anywhere once they are most of the array.
    let head = 0;
    while (head < this.posts.length && this.posts[head]!.settled) head += 1;
    if (head === this.posts.length) {
      this.posts = [];
      this.settledCount = 0;
    } else if (this.settledCount > 32 && this.settledCount * 2 > this.posts.length) {
      this.posts = this.posts.filter((p) => !p.settled);
      this.settledCount = 0;
    } else if (head > 0) {
      this.posts.splice(0, head);
      this.settledCount -= head;
    }
    return true;
  }

  /** Stops listening to the shutdown signals, which outlive a target that a reload replaced. */
  detach(): void {
    for (const [signal, listener] of this.listening) signal.removeEventListener('abort', listener);
    this.listening.clear();
  }

  private abortAll(shutdown: AbortSignal): void {
    this.listening.delete(shutdown);
    const reason = reasonOf(shutdown);
    for (const post of [...this.posts]) if (!post.settled && post.shutdown === shutdown) post.abort(reason);
  }

  private arm(): void {
    if (this.timer) return;
    const oldest = this.posts.find((p) => !p.settled);
    if (!oldest) return;
    this.timer = setTimeout(() => this.expire(), Math.max(0, oldest.deadline - performance.now()));
    this.timer.unref(); // a request in flight holds the process open through its socket
  }

  private expire(): void {
    this.timer = undefined;
    const now = performance.now();
    try {
      for (const post of [...this.posts]) {
        if (post.settled) continue;
        if (post.deadline > now) break;
        post.abort(new Error(`no answer within ${this.timeoutMs} ms`));
      }
    } finally {
      this.arm(); // whatever happened above, the POSTs left keep their deadlines
    }
  }
}

function reasonOf(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(String(reason ?? 'aborted'));
}
