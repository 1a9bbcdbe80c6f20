import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, makeTestApp, type TestApp } from '../support/app.ts';

const ALLOWED = new Set([200, 400, 401, 413, 415, 503]);
let t: TestApp;
beforeAll(async () => {
  t = await makeTestApp({ server: { bodyLimitBytes: 64 * 1024 } });
});
afterAll(async () => t.close());

async function post(payload: string | Buffer, contentType = 'application/json') {
  const res = await t.app.http.inject({
    method: 'POST',
    url: '/v1/webhooks/alertmanager',
    headers: { 'content-type': contentType },
    payload,
  });
  expect(ALLOWED.has(res.statusCode), `status ${res.statusCode}: ${res.body}`).toBe(true);
  if (res.statusCode !== 200) expect(res.json()).toHaveProperty('code');
  return res;
}

// Replaces the value at a random path of the fixture with an arbitrary JSON value, or deletes it.
function mutate(base: unknown, path: number[], replacement: unknown, remove: boolean): unknown {
  if (path.length === 0 || base === null || typeof base !== 'object') return remove ? undefined : replacement;
  const keys = Object.keys(base);
  if (keys.length === 0) return base;
  const key = keys[path[0]! % keys.length]!;
  const copy: Record<string, unknown> = Array.isArray(base)
    ? ([...base] as unknown as Record<string, unknown>)
    : { ...base };
  const child = mutate((base as Record<string, unknown>)[key], path.slice(1), replacement, remove);
  if (child === undefined) delete copy[key];
  else copy[key] = child;
  return copy;
}

describe('hostile webhook payloads', () => {
  it('answers arbitrary JSON with 2xx/4xx, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 6 }), async (value) => {
        await post(JSON.stringify(value));
      }),
      { numRuns: 300 },
    );
  });

  it('answers mutated real payloads with 2xx/4xx, never 5xx', async () => {
    const base = fixture('firing');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
        fc.jsonValue({ maxDepth: 3 }),
        fc.boolean(),
        async (path, replacement, remove) => {
          await post(JSON.stringify(mutate(base, path, replacement, remove)));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('survives hostile bytes, prototype keys, deep nesting, huge and odd bodies', async () => {
    const alert = (fixture('firing')['alerts'] as Record<string, unknown>[])[0]!;
    const cases: [string | Buffer, string?][] = [
      [Buffer.from([0xff, 0xfe, 0x00, 0x7b])],
      ['{"__proto__": {"polluted": true}, "version": "4"}'],
      [
        JSON.stringify({
          ...fixture('firing'),
          alerts: [{ ...alert, labels: { __proto__: 'x', constructor: 'y', alertname: 'A' } }],
        }),
      ],
      [
        JSON.stringify({
          ...fixture('firing'),
          alerts: [{ ...alert, labels: JSON.parse('{"__proto__": {"admin": true}}') }],
        }),
      ],
      ['['.repeat(5000) + ']'.repeat(5000)],
      ['{"a":' + '{"a":'.repeat(3000) + '1' + '}'.repeat(3001)],
      ['x'.repeat(70 * 1024)],
      [''],
      ['null'],
      ['"string"'],
      ['1e999'],
      [JSON.stringify(fixture('firing')), 'application/json; charset=utf-16'],
      [JSON.stringify(fixture('firing')), 'application/xml'],
      [JSON.stringify({ ...fixture('firing'), alerts: Array.from({ length: 2000 }, () => alert) })],
      [
        JSON.stringify({
          ...fixture('firing'),
          alerts: [{ ...alert, labels: { alertname: '\u0000\ud800' } }],
        }),
      ],
    ];
    for (const [body, type] of cases) await post(body, type);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(({} as Record<string, unknown>)['admin']).toBeUndefined();
    const health = await t.app.http.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
  });
});
