import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Chaos, DEFAULT_CHAOS, chaosPatchSchema } from './chaos.ts';
import type { ChaosSettings } from './chaos.ts';
import { FlagWatcher } from './flag-source.ts';
import type { FlagSource } from './flag-source.ts';
import { createMetrics } from './metrics.ts';
import type { CheckoutMetrics } from './metrics.ts';
import { registerShopRoutes } from './routes.ts';

export interface CheckoutServerOptions {
  /** Loopback by default; a pod sets 0.0.0.0. */
  readonly host?: string;
  /** 0 picks a free port (tests, several local replicas). */
  readonly port?: number;
  readonly chaos?: Partial<ChaosSettings>;
  /** Where degraded mode is read from besides the admin endpoint (mounted ConfigMap file or API). */
  readonly flagSource?: FlagSource;
  readonly pollIntervalMs?: number;
  /** When set, /admin/* requires `Authorization: Bearer <adminToken>`. */
  readonly adminToken?: string;
  readonly version?: string;
  readonly podName?: string;
  readonly logger?: boolean | { readonly level: string };
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface CheckoutServer {
  readonly app: FastifyInstance;
  readonly chaos: Chaos;
  readonly metrics: CheckoutMetrics;
  readonly watcher: FlagWatcher | undefined;
  /** Reads the flag source once, listens, and returns the base URL. */
  start(): Promise<string>;
  /** Fails readiness, stops polling, drains in-flight requests and closes. */
  stop(): Promise<void>;
}

/** Builds the checkout service; listening is left to start() so tests and main.ts share one factory. */
export function createCheckoutServer(options: CheckoutServerOptions = {}): CheckoutServer {
  const chaos = new Chaos(
    { ...DEFAULT_CHAOS, ...options.chaos },
    { random: options.random ?? Math.random, sleep: options.sleep ?? ((ms) => delay(ms)) },
  );
  const metrics = createMetrics({ version: options.version ?? 'dev', pod: options.podName });
  metrics.setChaos(chaos.settings);
  chaos.onChange((settings) => metrics.setChaos(settings));

  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 64 * 1024 });
  let serving = false;
  const watcher = options.flagSource
    ? createWatcher(options.flagSource, options.pollIntervalMs ?? 1000)
    : undefined;

  function createWatcher(source: FlagSource, intervalMs: number): FlagWatcher {
    return new FlagWatcher(source, {
      intervalMs,
      onChange: (value) => {
        chaos.update({ degradedMode: value }, `config:${source.name}`);
        app.log.info({ degradedMode: value, source: source.name }, 'degraded mode changed by config source');
      },
      onError: (err) => {
        metrics.configErrors.inc({ source: source.name });
        app.log.warn(
          { err, source: source.name },
          'cannot read the degraded-mode flag; keeping the current value',
        );
      },
    });
  }

  instrument(app, metrics);
  registerShopRoutes(app, { chaos, metrics, newOrderId: () => `ord_${randomUUID()}` });
  registerOpsRoutes(app, { chaos, metrics, adminToken: options.adminToken, isServing: () => serving });

  return {
    app,
    chaos,
    metrics,
    watcher,
    async start() {
      await watcher?.start();
      const url = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
      serving = true;
      return url;
    },
    async stop() {
      serving = false;
      await watcher?.stop();
      await app.close();
    },
  };
}

/** Counts and times every request by route template (not raw URL) so label cardinality stays bounded. */
function instrument(app: FastifyInstance, metrics: CheckoutMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const method = request.method;
    metrics.requests.inc({ method, route, status: String(reply.statusCode) });
    metrics.duration.observe({ method, route }, reply.elapsedTime / 1000);
  });
  app.setErrorHandler(async (err: Error & { statusCode?: number }, request, reply) => {
    const status = err.statusCode !== undefined && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) request.log.error({ err }, 'request failed');
    return reply
      .code(status)
      .send({ error: status >= 500 ? 'INTERNAL' : 'BAD_REQUEST', message: err.message });
  });
  app.setNotFoundHandler(async (request, reply) =>
    reply.code(404).send({ error: 'NOT_FOUND', message: `no route ${request.method} ${request.url}` }),
  );
}

interface OpsDeps {
  readonly chaos: Chaos;
  readonly metrics: CheckoutMetrics;
  readonly adminToken: string | undefined;
  readonly isServing: () => boolean;
}

function registerOpsRoutes(app: FastifyInstance, deps: OpsDeps): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const ready = deps.isServing() && !deps.chaos.settings.readinessFailing;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready' });
  });

  app.get('/metrics', async (_request, reply) => {
    const body = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(body);
  });

  const authorize = async (request: FastifyRequest, reply: FastifyReply) => {
    if (deps.adminToken === undefined) return;
    if (request.headers.authorization !== `Bearer ${deps.adminToken}`) {
      await reply
        .code(401)
        .send({ error: 'UNAUTHORIZED', message: 'send Authorization: Bearer <ADMIN_TOKEN>' });
    }
  };
  const view = () => ({ ...deps.chaos.settings, degradedModeSource: deps.chaos.degradedModeSource });

  app.get('/admin/chaos', { preHandler: authorize }, async () => view());

  app.put('/admin/chaos', { preHandler: authorize }, async (request, reply) => {
    const parsed = chaosPatchSchema.safeParse(request.body ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = issue ? ['$', ...issue.path.map(String)].join('.') : '$';
      return reply.code(400).send({
        error: 'INVALID_CHAOS',
        message: `${path}: ${issue?.message ?? 'invalid'}; knobs are errorRate (0-1), latencyMs, latencyJitterMs, degradedMode, readinessFailing, maxConcurrency`,
      });
    }
    deps.chaos.update(parsed.data, 'admin');
    request.log.info({ chaos: parsed.data }, 'chaos knobs changed through the admin endpoint');
    return view();
  });
}
