import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BUNDLE_DIR, PAGE_PATHS } from '../../src/http/routes/dashboard.ts';
import { registeredRoutes } from '../../src/http/server.ts';
import { makeTestApp, type TestApp } from '../support/app.ts';

/**
 * Routes that are deliberately not in the API document, and why:
 * - `/` and the dashboard's client-side page paths serve its HTML page (or a 503 saying to build it), not JSON;
 * - files of the built dashboard bundle (index.html, assets/…) registered by @fastify/static are static assets;
 * - HEAD, which Fastify adds beside every GET: it answers as the GET does, without the body.
 * /healthz, /readyz and /metrics are not API calls either, but the document describes them, so they are checked.
 */
const NOT_API_PATHS = new Set<string>(['/', ...PAGE_PATHS]);
const isBundleFile = (url: string) => {
  const file = join(DEFAULT_BUNDLE_DIR, url);
  return existsSync(file) && statSync(file).isFile();
};

type Operation = { parameters?: { name: string; in: string }[]; security?: unknown[] };
type Document = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
};

let t: TestApp;
let doc: Document;
/** `METHOD /path/{param}` → the route's options, for every API route the server registered. */
let served: Map<string, RouteOptions>;

beforeAll(async () => {
  t = await makeTestApp();
  doc = (await t.app.http.inject({ url: '/v1/openapi.json' })).json();
  const routes = registeredRoutes(t.app.http);
  served = new Map();
  for (const route of routes) {
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    if (NOT_API_PATHS.has(route.url) || isBundleFile(route.url)) continue;
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') served.set(`${method} ${path}`, route);
    }
  }
});
afterAll(async () => {
  await t?.close();
});

const documented = () =>
  Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, path, op })),
  );

describe('the OpenAPI document and the routes the server registers', () => {
  it('sees the routes (the hook works)', () => {
    expect(served.size).toBeGreaterThan(40);
    expect(served.has('GET /v1/incidents/{id}')).toBe(true);
  });

  it('documents every route the server registers', () => {
    const keys = new Set(documented().map((d) => d.key));
    expect([...served.keys()].filter((k) => !keys.has(k)).sort()).toEqual([]);
  });

  it('documents no route the server does not have', () => {
    expect(
      documented()
        .map((d) => d.key)
        .filter((k) => !served.has(k))
        .sort(),
    ).toEqual([]);
  });

  it('declares every path parameter of a path', () => {
    for (const { key, path, op } of documented()) {
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const declared = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name);
      expect(declared.sort(), key).toEqual(inPath.sort());
    }
  });

  it('does not describe a route that needs a role as open', () => {
    const wrong = documented()
      .filter(({ key, op }) => served.get(key)?.config?.role !== undefined && op.security?.length === 0)
      .map((d) => d.key);
    expect(wrong).toEqual([]);
  });

  it('refers only to schemas it defines', () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map(
      (m) => m[1]!,
    );
    expect(refs.length).toBeGreaterThan(0);
    for (const name of new Set(refs)) expect(doc.components.schemas, name).toHaveProperty(name);
  });
});
