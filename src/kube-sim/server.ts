import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Controller, type PodLifecycle } from './controller.ts';
import { Handlers, type Reply, type Route } from './handlers.ts';
import type { Json } from './patch.ts';
import { badRequest, failure, StatusError, type Status } from './status.ts';
import { ObjectStore, RESOURCE_TYPES, type K8sObject } from './store.ts';

/** One request as the double received it, for exact assertions on what a client sent. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly contentType: string | undefined;
  readonly body: unknown;
}

export interface FailureRule {
  /** Remaining requests this rule fails. */
  remaining: number;
  readonly code: number;
  readonly reason: string;
  readonly message: string;
  readonly retryAfterSeconds?: number;
  readonly method?: string;
  readonly pathIncludes?: string;
}

export interface KubeApiDoubleOptions {
  readonly now?: () => Date;
  /** Serve HTTPS with this key and certificate (PEM), as a real apiserver does. */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** Require `Authorization: Bearer <token>`; anything else gets 401 Unauthorized. */
  readonly token?: string;
  /** `external` when a kubelet (kubelet.ts) runs the pods and reports their status; `instant` by default. */
  readonly podLifecycle?: PodLifecycle;
  /** Text served on `GET /metrics` (not recorded as an API request), e.g. kube-state-metrics series. */
  readonly metrics?: () => string;
  /** Listen on this loopback port; 0 (the default) picks a free one. */
  readonly port?: number;
}

/**
 * A Kubernetes API server double on 127.0.0.1:0 for `@kubernetes/client-node`: REST verbs over Deployments,
 * ReplicaSets, DaemonSets (stored, not run), Pods, ConfigMaps, Nodes and PodDisruptionBudgets with the apiserver's patch, conflict, dry-run,
 * selector and error semantics, plus a small Deployment controller. Tests drive it through hooks.
 */
export class KubeApiDouble {
  readonly store: ObjectStore;
  readonly requests: RecordedRequest[] = [];
  private readonly hooks = {
    neverEvictable: new Set<string>(),
    heldDeletions: new Map<string, number>(),
    heldRollouts: new Map<string, number>(),
    failedRollouts: new Set<string>(),
  };
  private readonly failures: FailureRule[] = [];
  private readonly listeners: ((r: RecordedRequest) => void)[] = [];
  private readonly controller: Controller;
  private readonly handlers: Handlers;
  private server: Server | undefined;
  url = '';

  constructor(private readonly options: KubeApiDoubleOptions = {}) {
    this.store = new ObjectStore(options.now ?? (() => new Date()));
    this.controller = new Controller(this.store, this.hooks, options.podLifecycle ?? 'instant');
    this.handlers = new Handlers(this.store, this.controller, this.hooks);
  }

  async start(): Promise<string> {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.serve(req, res);
    const server: Server = this.options.tls
      ? createTlsServer(this.options.tls, handler)
      : createServer(handler);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, '127.0.0.1', resolve);
    });
    const scheme = this.options.tls ? 'https' : 'http';
    this.url = `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  // ---- hooks for tests -------------------------------------------------------------------------------

  /** Fails the next `count` requests matching `match` with the given Status. */
  failNext(
    count: number,
    status: { code: number; reason: string; message?: string; retryAfterSeconds?: number },
    match: { method?: string; pathIncludes?: string } = {},
  ): void {
    this.failures.push({
      remaining: count,
      code: status.code,
      reason: status.reason,
      message: status.message ?? `injected ${status.reason}`,
      ...(status.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: status.retryAfterSeconds }),
      ...match,
    });
  }

  /** Every eviction of this pod gets 429, as if a budget always blocked it. */
  neverEvict(namespace: string, name: string): void {
    this.hooks.neverEvictable.add(`${namespace}/${name}`);
  }

  /** Deleting/evicting this pod leaves it terminating until it has been read `reads` more times. */
  holdDeletion(namespace: string, name: string, reads: number): void {
    this.hooks.heldDeletions.set(`${namespace}/${name}`, reads);
  }

  /** The Deployment's rollout reports in progress until the Deployment has been read `reads` more times. */
  holdRollout(namespace: string, name: string, reads: number): void {
    this.hooks.heldRollouts.set(`${namespace}/${name}`, reads);
    this.controller.reconcile();
  }

  /** The Deployment reports `Progressing=False, reason=ProgressDeadlineExceeded`. */
  failRollout(namespace: string, name: string): void {
    this.hooks.failedRollouts.add(`${namespace}/${name}`);
    this.controller.reconcile();
  }

  /** Called for each request after it is recorded and before it is handled (tests may change state here). */
  onRequest(listener: (r: RecordedRequest) => void): void {
    this.listeners.push(listener);
  }

  /** Called after every reconcile (each write, through HTTP or directly), for kubelets and exporters. */
  onReconcile(listener: () => void): void {
    this.controller.onReconcile(listener);
  }

  /** Re-runs the controllers, e.g. after a kubelet reported a pod's status. */
  reconcile(): void {
    this.controller.reconcile();
  }

  /** Requests other than GET: what changed, or tried to change, the cluster. */
  writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.method !== 'GET');
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  // ---- direct state access (bypasses HTTP; the controller still runs) ---------------------------------

  put(resource: string, obj: K8sObject): K8sObject {
    const existing = this.store.get(resource, obj.metadata.namespace, obj.metadata.name);
    const stored = existing
      ? this.store.update(resource, { ...obj, metadata: { ...existing.metadata, ...obj.metadata } })
      : this.store.create(resource, obj);
    this.controller.reconcile();
    return this.store.get(resource, stored.metadata.namespace, stored.metadata.name) ?? stored;
  }

  get(resource: string, namespace: string | undefined, name: string): K8sObject | undefined {
    return this.store.get(resource, namespace, name);
  }

  list(resource: string, namespace?: string): K8sObject[] {
    return this.store.list(resource, namespace);
  }

  remove(resource: string, namespace: string | undefined, name: string): void {
    this.store.delete(resource, namespace, name);
    this.controller.reconcile();
  }

  // ---- HTTP ------------------------------------------------------------------------------------------

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.options.metrics && req.method === 'GET' && req.url === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(this.options.metrics());
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://double');
    const contentType = req.headers['content-type']?.split(';')[0]?.trim();
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType,
      body: text === '' ? undefined : parseOrText(text),
    };
    this.requests.push(record);
    let reply: Reply;
    try {
      for (const listener of this.listeners) listener(record);
      reply = this.unauthorized(req) ?? this.injected(record) ?? this.dispatch(record, url.searchParams);
    } catch (err) {
      if (!(err instanceof StatusError)) throw err;
      reply = { code: err.status.code, body: err.status };
    }
    const retryAfter = (reply.body as { details?: { retryAfterSeconds?: number } } | undefined)?.details
      ?.retryAfterSeconds;
    // The apiserver mirrors details.retryAfterSeconds in a Retry-After header (429 throttling, 503 timeouts).
    res.writeHead(reply.code, {
      'content-type': 'application/json',
      ...(retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) }),
    });
    res.end(JSON.stringify(reply.body));
  }

  private unauthorized(req: IncomingMessage): Reply | undefined {
    if (this.options.token === undefined || req.headers.authorization === `Bearer ${this.options.token}`)
      return undefined;
    return { code: 401, body: failure(401, 'Unauthorized', 'Unauthorized').status };
  }

  private injected(r: RecordedRequest): Reply | undefined {
    const rule = this.failures.find(
      (f) =>
        f.remaining > 0 &&
        (!f.method || f.method === r.method) &&
        (!f.pathIncludes || r.path.includes(f.pathIncludes)),
    );
    if (!rule) return undefined;
    rule.remaining--;
    const details =
      rule.retryAfterSeconds === undefined ? undefined : { retryAfterSeconds: rule.retryAfterSeconds };
    const status: Status = failure(rule.code, rule.reason, rule.message, details).status;
    return { code: rule.code, body: status };
  }

  private dispatch(r: RecordedRequest, query: URLSearchParams): Reply {
    const route = parseRoute(r.path);
    const dryRunValues = query.getAll('dryRun');
    if (dryRunValues.some((v) => v !== 'All'))
      throw badRequest(`Invalid dry run value: ${dryRunValues.join(',')}; the only valid value is "All"`);
    const dryRun = dryRunValues.length > 0;
    const isItem = route.name !== undefined;
    switch (r.method) {
      case 'GET':
        return isItem ? this.handlers.get(route) : this.handlers.list(route, query);
      case 'POST':
        if (route.subresource === 'eviction') return this.handlers.evict(route, r.body, dryRun);
        if (isItem) break;
        return this.handlers.create(route, r.body, dryRun);
      case 'PUT':
        if (isItem) return this.handlers.replace(route, r.body, dryRun);
        break;
      case 'PATCH':
        if (isItem) return this.handlers.patch(route, r.contentType ?? '', r.body, dryRun);
        break;
      case 'DELETE':
        if (isItem) return this.handlers.remove(route, dryRun);
        break;
    }
    throw failure(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
  }
}

/** Maps a URL path to the resource it addresses, or 404 like the apiserver for unknown paths. */
export function parseRoute(path: string): Route {
  const parts = path.split('/').filter(Boolean);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api') [group, version, rest] = ['', parts[1] ?? '', parts.slice(2)];
  else if (parts[0] === 'apis') [group, version, rest] = [parts[1] ?? '', parts[2] ?? '', parts.slice(3)];
  else throw missing();
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource, name, subresource, ...extra] = rest;
  const type = RESOURCE_TYPES.find(
    (t) => t.resource === resource && t.group === group && t.version === version,
  );
  if (!type || extra.length > 0 || (namespace !== undefined && !type.namespaced)) throw missing();
  if (name !== undefined && type.namespaced && namespace === undefined) throw missing();
  const allowedSub =
    subresource === undefined ||
    (subresource === 'scale' && resource === 'deployments') ||
    (subresource === 'eviction' && resource === 'pods');
  if (!allowedSub) throw missing();
  return {
    type,
    ...(namespace === undefined ? {} : { namespace }),
    ...(name === undefined ? {} : { name }),
    ...(subresource === undefined ? {} : { subresource }),
  };
}

function missing(): StatusError {
  return failure(404, 'NotFound', 'the server could not find the requested resource');
}

function parseOrText(text: string): unknown {
  try {
    return JSON.parse(text) as Json;
  } catch {
    return text;
  }
}
