import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** Where `npm run build` (vite) writes the dashboard bundle. */
export const DEFAULT_BUNDLE_DIR = resolve(import.meta.dirname, '..', '..', '..', 'dist', 'web');

/**
 * Everything the dashboard loads comes from this server: no inline script or style, no other origin.
 * (uPlot and Preact set styles through the CSSOM, which `style-src 'self'` allows.)
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};

export interface DashboardRouteDeps {
  /** The built bundle (index.html + assets/); default dist/web in the repository. */
  readonly bundleDir?: string;
  /** Where links on incident pages point: the Prometheus and Alertmanager UIs (from `verify.*.url`). */
  readonly links?: { readonly prometheus?: string; readonly alertmanager?: string };
  readonly version?: string;
}

/** Client-side routes: a reload or a shared link on any of them gets the page, which then routes itself. */
export const PAGE_PATHS = [
  '/incidents',
  '/incidents/:id',
  '/executions',
  '/executions/:id',
  '/approvals',
  '/events',
  '/operations',
  '/analytics',
  '/signin',
] as const;

/**
 * Serves the dashboard at `/` and its client-side routes, its hashed assets under `/assets/`, and a strict
 * CSP and the other security headers on every response of the server.
 */
export function registerDashboardRoutes(app: FastifyInstance, deps: DashboardRouteDeps = {}): void {
  app.addHook('onSend', async (_request, reply) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS))
      if (!reply.hasHeader(name)) reply.header(name, value);
  });

  app.get('/v1/dashboard', { config: { role: 'viewer' } }, async () => ({
    version: deps.version ?? null,
    links: deps.links ?? {},
  }));

  const root = deps.bundleDir ?? DEFAULT_BUNDLE_DIR;
  if (!existsSync(join(root, 'index.html'))) {
    for (const path of ['/', ...PAGE_PATHS])
      app.get(path, async (_request, reply) =>
        reply
          .code(503)
          .type('text/plain; charset=utf-8')
          // Not the absolute path: anyone who can reach the server would learn where it is installed.
          .send('The dashboard is not built: run `npm run build` in the Rebound checkout, then restart.\n'),
      );
    return;
  }
  void app.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: false,
    // `/` is one of the page routes below, so it behaves like every other page path.
    index: false,
    preCompressed: true,
    serveDotFiles: false,
    setHeaders(reply, path) {
      // Asset names carry a content hash, so they never change; index.html must be re-read to find new ones.
      reply.header(
        'cache-control',
        path.includes(join('assets', '')) ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  for (const path of ['/', ...PAGE_PATHS])
    app.get(path, async (_request, reply) => reply.sendFile('index.html'));
}
