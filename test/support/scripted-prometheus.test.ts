import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isIntegrationError } from '../../src/integrations/errors.ts';
import { PrometheusClient } from '../../src/integrations/prometheus/client.ts';
import { monitoringUnavailable, startPrometheus, type RunningServer } from './receivers/monitoring.ts';
import { startScriptedPrometheus, type ScriptedPrometheus } from './receivers/prometheus.ts';

/**
 * Pins the scripted Prometheus to the HTTP API it stands in for: the envelope and shapes a real Prometheus
 * answers (checked against the real binary when it is installed), and the behaviour the runbook tests rely on.
 */

const FIRING = { alertname: 'CheckoutCrashLooping', severity: 'critical', namespace: 'shop' };

let prom: ScriptedPrometheus;
beforeEach(async () => {
  prom = await startScriptedPrometheus();
});
afterEach(() => prom.close());

async function get(base: string, path: string) {
  const res = await fetch(base + path);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function postForm(base: string, query: string) {
  const res = await fetch(`${base}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('scripted Prometheus', () => {
  it('answers a scripted query by GET and by form POST in the success envelope, and records both', async () => {
    prom.answer('up', [{ metric: { job: 'a' }, value: 1 }, { value: Number.POSITIVE_INFINITY }]);
    const byGet = await get(prom.url, `/api/v1/query?query=up&time=1700000000`);
    const byPost = await postForm(prom.url, 'up');
    for (const answer of [byGet, byPost]) {
      expect(answer).toEqual({
        status: 200,
        body: {
          status: 'success',
          data: {
            resultType: 'vector',
            result: [
              { metric: { job: 'a' }, value: [expect.any(Number), '1'] },
              { metric: {}, value: [expect.any(Number), '+Inf'] },
            ],
          },
        },
      });
    }
    expect(prom.queries()).toEqual(['up', 'up']);
  });

  it('refuses an unscripted query with the bad_data error, which the client treats as permanent', async () => {
    expect(await get(prom.url, '/api/v1/query?query=rate(x[5m])')).toEqual({
      status: 400,
      body: { status: 'error', errorType: 'bad_data', error: 'no scripted answer for query rate(x[5m])' },
    });
    const err = await new PrometheusClient({ url: prom.url, timeoutMs: 2_000 })
      .query('rate(x[5m])')
      .catch((e: unknown) => e);
    expect(isIntegrationError(err) && !err.retryable).toBe(true);
  });

  it('answers a scripted failure in the error envelope with its status', async () => {
    prom.answer('slow', { status: 503, errorType: 'timeout', error: 'query timed out' });
    expect(await get(prom.url, '/api/v1/query?query=slow')).toEqual({
      status: 503,
      body: { status: 'error', errorType: 'timeout', error: 'query timed out' },
    });
  });

  it('derives ALERTS and /api/v1/alerts from the firing alerts, as one rule evaluation would', async () => {
    prom.fire(FIRING);
    const client = new PrometheusClient({ url: prom.url, timeoutMs: 2_000 });
    const selector = 'ALERTS{alertname="CheckoutCrashLooping",alertstate="firing"}';
    expect((await client.query(selector)).samples).toEqual([
      {
        metric: { __name__: 'ALERTS', alertstate: 'firing', ...FIRING },
        timestamp: expect.any(Number),
        value: 1,
      },
    ]);
    expect((await client.query('ALERTS{alertname="Other"}')).samples).toEqual([]);
    expect(await client.alerts()).toEqual([
      { labels: FIRING, annotations: {}, state: 'firing', activeAt: expect.any(String), value: '1e+00' },
    ]);
    prom.resolve(FIRING);
    expect((await client.query(selector)).samples).toEqual([]);
    expect(await client.alerts()).toEqual([]);
  });

  it('refuses ALERTS selectors it cannot evaluate rather than guessing', async () => {
    prom.fire(FIRING);
    expect(
      await get(prom.url, `/api/v1/query?query=${encodeURIComponent('ALERTS{alertname=~"Check.*"}')}`),
    ).toMatchObject({ status: 400, body: { status: 'error', errorType: 'bad_data' } });
  });
});

const unavailable = monitoringUnavailable();

describe.skipIf(unavailable !== undefined)('scripted Prometheus next to a real one', () => {
  let real: RunningServer;
  beforeAll(async () => {
    real = await startPrometheus({ targets: [], rules: 'groups: []\n' });
  }, 60_000);
  afterAll(() => real?.stop());

  /** The shape of a JSON value: objects by their keys, arrays by their first element, scalars by type. */
  const shape = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.slice(0, 1).map(shape)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]))
        : typeof v;

  it('answers an instant vector, an empty ALERTS and the alerts list in the same shapes', async () => {
    prom.answer('vector(1)', [{ value: 1 }]);
    const ALERTS = '/api/v1/query?query=' + encodeURIComponent('ALERTS{alertname="X",alertstate="firing"}');
    for (const path of ['/api/v1/query?query=vector(1)', ALERTS, '/api/v1/alerts']) {
      const [theirs, ours] = [await get(real.url, path), await get(prom.url, path)];
      expect({ path, status: ours.status, shape: shape(ours.body) }).toEqual({
        path,
        status: theirs.status,
        shape: shape(theirs.body),
      });
    }
    const [theirs, ours] = [await postForm(real.url, 'vector(1)'), await postForm(prom.url, 'vector(1)')];
    expect(shape(ours.body)).toEqual(shape(theirs.body));
    expect((ours.body['data'] as { result: unknown[] }).result).toEqual(
      (theirs.body['data'] as { result: { value: unknown[] }[] }).result.map((r) => ({
        ...r,
        value: [expect.any(Number), r.value[1]],
      })),
    );
  });

  it('refuses a query in the same error envelope', async () => {
    const [theirs, ours] = [
      await get(real.url, '/api/v1/query?query=' + encodeURIComponent('sum(')),
      await get(prom.url, '/api/v1/query?query=' + encodeURIComponent('sum(')),
    ];
    expect(ours.status).toBe(theirs.status);
    expect(Object.keys(ours.body).sort()).toEqual(Object.keys(theirs.body).sort());
    expect(ours.body['errorType']).toBe(theirs.body['errorType']);
  });
});
