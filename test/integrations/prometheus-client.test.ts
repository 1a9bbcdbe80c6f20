import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IntegrationError } from '../../src/integrations/errors.ts';
import { PrometheusClient } from '../../src/integrations/prometheus/client.ts';
import { vectorSelector } from '../../src/integrations/prometheus/promql.ts';
import { HttpRecorder } from '../support/receivers/http-recorder.ts';

// Envelopes exactly as prometheus/web/api/v1 writes them (docs/querying/api.md).
const success = (data: unknown, warnings?: string[]) => ({
  status: 200,
  body: { status: 'success', data, ...(warnings ? { warnings } : {}) },
});
const failure = (status: number, errorType: string, error: string) => ({
  status,
  body: { status: 'error', errorType, error },
});

async function caught(promise: Promise<unknown>): Promise<IntegrationError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(IntegrationError);
  return err as IntegrationError;
}

describe('PrometheusClient', () => {
  let server: HttpRecorder;
  let client: PrometheusClient;

  beforeEach(async () => {
    server = await HttpRecorder.start(() => success({ resultType: 'vector', result: [] }));
    client = new PrometheusClient({
      url: server.url + '/prom/',
      timeoutMs: 2_000,
      bearerToken: 's3cret-token',
    });
  });
  afterEach(() => server.close());

  it('sends an instant query under the configured path prefix with the bearer token', async () => {
    server.script(
      success({ resultType: 'vector', result: [{ metric: { job: 'api' }, value: [1700000000.5, '0.25'] }] }, [
        'partial data',
      ]),
    );
    const result = await client.query('rate(x[5m])', { time: new Date(1_700_000_000_500) });
    expect(result).toEqual({
      resultType: 'vector',
      samples: [{ metric: { job: 'api' }, timestamp: 1700000000.5, value: 0.25 }],
      warnings: ['partial data'],
    });
    const req = server.requests[0]!;
    expect(req.method).toBe('GET');
    expect(req.path).toBe('/prom/api/v1/query');
    expect(req.query.get('query')).toBe('rate(x[5m])');
    expect(req.query.get('time')).toBe('1700000000.500');
    expect(req.headers['authorization']).toBe('Bearer s3cret-token');
  });

  it('reads scalars and Prometheus infinities', async () => {
    server.script(
      success({ resultType: 'scalar', result: [1, '+Inf'] }),
      success({
        resultType: 'vector',
        result: [
          { metric: {}, value: [1, '-Inf'] },
          { metric: { a: 'b' }, value: [1, 'NaN'] },
        ],
      }),
    );
    expect((await client.query('1/0')).samples[0]!.value).toBe(Number.POSITIVE_INFINITY);
    const v = await client.query('x');
    expect(v.samples[0]!.value).toBe(Number.NEGATIVE_INFINITY);
    expect(v.samples[1]!.value).toBeNaN();
  });

  it('refuses range results from an instant query', async () => {
    server.script(success({ resultType: 'matrix', result: [] }));
    const err = await caught(client.query('x[5m]'));
    expect(err.kind).toBe('bad_response');
    expect(err.retryable).toBe(false);
  });

  it.each([
    [400, 'bad_data', false],
    [422, 'execution', false],
    [503, 'timeout', true],
    [503, 'unavailable', true],
    [500, 'internal', true],
  ])('maps HTTP %i %s to retryable=%s with the errorType', async (status, errorType, retryable) => {
    server.script(failure(status, errorType, 'boom'));
    const err = await caught(client.query('up'));
    expect(err).toMatchObject({
      name: 'Rebound.IntegrationFailed',
      service: 'prometheus',
      kind: 'api',
      status,
      errorType,
      retryable,
    });
    expect(err.message).toContain('boom');
  });

  it('treats a 5xx without an envelope (a proxy) as retryable and a 404 as permanent', async () => {
    server.script(
      { status: 502, body: '<html>bad gateway</html>' },
      { status: 404, body: '404 page not found' },
    );
    expect(await caught(client.query('up'))).toMatchObject({ kind: 'http', status: 502, retryable: true });
    expect(await caught(client.query('up'))).toMatchObject({ kind: 'http', status: 404, retryable: false });
    server.script({ status: 429, body: 'slow down', headers: { 'retry-after': '7' } });
    expect(await caught(client.query('up'))).toMatchObject({
      status: 429,
      retryable: true,
      retryAfterMs: 7000,
    });
  });

  it('times out with a retryable error when Prometheus does not answer', async () => {
    const slow = new PrometheusClient({ url: server.url, timeoutMs: 100 });
    server.script({ status: 200, hang: true });
    const err = await caught(slow.query('up'));
    expect(err).toMatchObject({ kind: 'timeout', retryable: true });
  });

  it('reports a cancelled call as aborted, not retryable', async () => {
    server.script({ status: 200, hang: true });
    const controller = new AbortController();
    const pending = client.query('up', { signal: controller.signal });
    controller.abort();
    expect(await caught(pending)).toMatchObject({ kind: 'aborted', retryable: false });
  });

  it('maps a refused connection to a retryable network error without leaking the token', async () => {
    const url = server.url;
    await server.close();
    const err = await caught(
      new PrometheusClient({ url, timeoutMs: 1_000, bearerToken: 's3cret-token' }).query('up'),
    );
    expect(err).toMatchObject({ kind: 'network', retryable: true });
    expect(err.message).toContain('ECONNREFUSED');
    expect(JSON.stringify(err)).not.toContain('s3cret-token');
    server = await HttpRecorder.start(() => ({ status: 200 }));
  });

  it('lists alerts from /api/v1/alerts', async () => {
    server.script(
      success({
        alerts: [
          {
            labels: { alertname: 'A' },
            annotations: {},
            state: 'firing',
            activeAt: '2024-01-01T00:00:00Z',
            value: '1e+00',
          },
        ],
      }),
    );
    expect(await client.alerts()).toEqual([
      {
        labels: { alertname: 'A' },
        annotations: {},
        state: 'firing',
        activeAt: '2024-01-01T00:00:00Z',
        value: '1e+00',
      },
    ]);
    expect(server.requests[0]!.path).toBe('/prom/api/v1/alerts');
  });
});

describe('vectorSelector', () => {
  it('escapes label values so they cannot change the query', () => {
    expect(vectorSelector('ALERTS', { alertname: 'X', svc: 'a"} or vector(1) #\\\n' })).toBe(
      'ALERTS{alertname="X",svc="a\\"} or vector(1) #\\\\\\n"}',
    );
    expect(() => vectorSelector('ALERTS', { 'bad-name': 'x' })).toThrow(/label name/);
  });
});
