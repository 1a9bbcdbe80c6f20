import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { describeError } from '../../errors.ts';
import { buildOpenApi } from '../openapi.ts';

export interface OpsRouteDeps {
  readonly registry: Registry;
  /** Throws when the store cannot be reached. */
  readonly checkStore: () => Promise<void>;
  /** Refreshes gauges that are read from the store (open incidents) just before a scrape. */
  readonly beforeScrape?: () => Promise<void>;
  readonly authMode: () => 'open' | 'token';
  /** `server.auth.publicMetrics`: /metrics without a token even when the API needs one. */
  readonly publicMetrics: () => boolean;
  readonly version: string;
}

export function registerOpsRoutes(app: FastifyInstance, deps: OpsRouteDeps): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await deps.checkStore();
      return { status: 'ready' };
    } catch (err) {
      return reply
        .code(503)
        .send({ status: 'unavailable', code: 'UNAVAILABLE', message: `store: ${describeError(err)}` });
    }
  });
  // Like the API: a viewer token once the API needs one. The series name rules, targets and runbooks.
  app.get(
    '/metrics',
    { config: { role: 'viewer', openWhen: deps.publicMetrics } },
    async (_request, reply) => {
      await deps.beforeScrape?.();
      return reply.type(deps.registry.contentType).send(await deps.registry.metrics());
    },
  );
  const openapi = buildOpenApi(deps.version);
  app.get('/v1/openapi.json', async () => openapi);
  app.get('/v1/info', async () => ({ version: deps.version, auth: deps.authMode() }));
}
