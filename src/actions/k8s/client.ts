import {
  AppsV1Api,
  CoreV1Api,
  createConfiguration,
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  RequestContext,
  ResponseContext,
  ServerConfiguration,
  wrapHttpLibrary,
  type KubeConfig,
} from '@kubernetes/client-node';
import type { WriteRequest } from '../types.ts';
import { ApiTimeout, K8sActionError, mayHaveLanded, neverSent, refused, toK8sError } from './errors.ts';

/** How writes reach the cluster. */
export interface WritePolicy {
  /** Record writes and do not send them (reads still happen). */
  readonly shadow: boolean;
  /** Send each write first with `dryRun=All`; the real write follows only if the server accepts it. */
  readonly preflightDryRun: boolean;
  /** How long one request may go unanswered before it fails (see kubernetes.requestTimeoutMs). */
  readonly requestTimeoutMs: number;
}

/** Thrown inside the HTTP layer for a shadowed write; `K8sSession.write` turns it into `undefined`. */
class ShadowedWrite extends Error {}

/**
 * One action's connection to one cluster. Every non-GET request passes through `send` below, which sees the
 * request exactly as it goes on the wire (after client-node has applied middleware and Content-Type), so the
 * recorded writes — and, in shadow mode, the writes not sent — are byte-for-byte what the server would get.
 */
export class K8sSession {
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  readonly writes: WriteRequest[] = [];
  private readonly inner = new IsomorphicFetchHttpLibrary();

  constructor(
    kubeConfig: KubeConfig,
    private readonly policy: WritePolicy,
    private readonly signal?: AbortSignal,
    /** Told of each write sent that may have changed something (ActionContext.onChange). */
    private readonly onChange?: () => void,
  ) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster)
      throw refused(
        'NoCluster',
        'the kubeconfig has no current cluster; set `context` in the cluster config',
      );
    const configuration = createConfiguration({
      baseServer: new ServerConfiguration(cluster.server, {}),
      authMethods: { default: kubeConfig },
      httpApi: wrapHttpLibrary({ send: (request) => this.send(request) }),
    });
    this.apps = new AppsV1Api(configuration);
    this.core = new CoreV1Api(configuration);
  }

  get shadow(): boolean {
    return this.policy.shadow;
  }

  /** Runs a read; API failures become K8sActionError. */
  async read<T>(doing: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw toK8sError(err, doing);
    }
  }

  /** Runs a write; in shadow mode it is recorded, not sent, and resolves to `undefined`. */
  async write<T>(doing: string, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof ShadowedWrite) return undefined;
      throw toK8sError(err, doing);
    }
  }

  /**
   * A write whose lost answer is looked into. When it may have been applied anyway (`mayHaveLanded`: no
   * answer, or a 5xx), `landed` reads the object again and, if the write's effect is there, the write counts
   * as done (resolving to `undefined`). Failed and retried instead, a relative change (a step, an undo, a
   * restart) would be applied twice, and the retry would report as `before` — what a compensating step
   * restores — the state this attempt set. When that read fails too, whether the write was applied is
   * unknown: `K8s.OutcomeUnknown`, not retryable, for the same reason. A write the server applies later still
   * than the read stays unseen.
   */
  async writeConfirmed<T>(
    doing: string,
    call: () => Promise<T>,
    landed: () => Promise<boolean>,
  ): Promise<T | undefined> {
    try {
      return await this.write(doing, call);
    } catch (err) {
      if (!mayHaveLanded(err)) throw err;
      let seen: boolean;
      try {
        seen = await landed();
      } catch (readErr) {
        const lost = err as K8sActionError;
        throw new K8sActionError(
          `${lost.message}; reading it back failed too (${(readErr as Error).message}), so whether it was ` +
            'applied is unknown: check by hand before acting again',
          { status: lost.status, reason: 'OutcomeUnknown', retryable: false, cause: err },
        );
      }
      if (!seen) throw err;
      return undefined;
    }
  }

  private async send(request: RequestContext): Promise<ResponseContext> {
    const method = request.getHttpMethod();
    if (method === HttpMethod.GET || method === HttpMethod.HEAD) return this.exchange(request);
    const described = describe(request);
    if (this.policy.shadow) {
      this.writes.push(described);
      throw new ShadowedWrite(`${described.method} ${described.path}`);
    }
    if (this.policy.preflightDryRun && !new URL(request.getUrl()).searchParams.has('dryRun')) {
      const probe = copyWithDryRun(request);
      this.writes.push(describe(probe));
      const verdict = await this.exchange(probe);
      // The server refused the dry run: return its answer so the caller sees the real error, unsent.
      if (verdict.httpStatusCode >= 300) return verdict;
    }
    this.writes.push(described);
    let response: ResponseContext;
    try {
      response = await this.exchange(request);
    } catch (err) {
      // Sent, and no answer: it may have been applied. Not when no connection was ever made.
      if (!neverSent(err)) this.onChange?.();
      throw err;
    }
    if (!refusedOutright(response.httpStatusCode)) this.onChange?.();
    return response;
  }

  /** One request and its answer, cancelled with the action or once it has waited requestTimeoutMs. */
  private async exchange(request: RequestContext): Promise<ResponseContext> {
    const timeout = AbortSignal.timeout(this.policy.requestTimeoutMs);
    request.setSignal(this.signal ? AbortSignal.any([this.signal, timeout]) : timeout);
    const timedOut = (err: unknown) =>
      timeout.aborted && !this.signal?.aborted ? new ApiTimeout(this.policy.requestTimeoutMs, err) : err;
    let response: ResponseContext;
    try {
      response = await this.inner.send(request).toPromise();
    } catch (err) {
      throw timedOut(err);
    }
    // client-node reads the body after this returns, under the same signal: a server that sends its headers
    // and then stalls is a timeout too, not a cancellation.
    const { body } = response;
    const guarded = <T>(read: () => Promise<T>) =>
      read().catch((err: unknown) => Promise.reject(timedOut(err)));
    return new ResponseContext(response.httpStatusCode, response.headers, {
      text: () => guarded(() => body.text()),
      binary: () => guarded(() => body.binary()),
    });
  }
}

/** A 4xx: the server refused the write without applying it (a 5xx may come after it was applied). */
function refusedOutright(status: number): boolean {
  return status >= 400 && status < 500;
}

function describe(request: RequestContext): WriteRequest {
  const url = new URL(request.getUrl());
  const headers = request.getHeaders();
  const contentType = headers['Content-Type'] ?? headers['content-type'];
  const raw = request.getBody();
  let body: unknown = raw;
  if (typeof raw === 'string') {
    try {
      body = JSON.parse(raw) as unknown;
    } catch {
      body = raw;
    }
  }
  return {
    method: request.getHttpMethod(),
    path: url.pathname + url.search,
    ...(contentType === undefined ? {} : { contentType }),
    ...(body === undefined ? {} : { body }),
  };
}

function copyWithDryRun(request: RequestContext): RequestContext {
  const copy = new RequestContext(request.getUrl(), request.getHttpMethod());
  for (const [k, v] of Object.entries(request.getHeaders())) copy.setHeaderParam(k, v);
  copy.setBody(request.getBody());
  const agent = request.getAgent();
  if (agent) copy.setAgent(agent);
  copy.setQueryParam('dryRun', 'All');
  return copy;
}
