import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileFlagSource } from '../src/flag-source.ts';
import { createCheckoutServer } from '../src/server.ts';
import type { CheckoutServer, CheckoutServerOptions } from '../src/server.ts';

const CART = { items: [{ sku: 'MUG-001', quantity: 2 }], payment: { token: 'tok_visa' } };

let running: CheckoutServer[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(running.map((s) => s.stop()));
  running = [];
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function start(options: CheckoutServerOptions = {}) {
  const server = createCheckoutServer(options);
  running.push(server);
  const url = await server.start();
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(url + path, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    const json: unknown = response.headers.get('content-type')?.includes('json')
      ? JSON.parse(text)
      : undefined;
    return {
      status: response.status,
      headers: response.headers,
      text,
      json: json as Record<string, unknown>,
    };
  };
  /** The value of one sample in the Prometheus exposition, or 0 when absent. */
  const sample = async (name: string, labels: string) => {
    const { text } = await call('GET', '/metrics');
    const prefix = labels === '' ? `${name} ` : `${name}{${labels}} `;
    const line = text.split('\n').find((l) => l.startsWith(prefix));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };
  return { server, url, call, sample };
}

describe('checkout service: shop routes', () => {
  it('lists products and charges a valid cart with live prices and recommendations', async () => {
    const { call, sample } = await start();
    const products = await call('GET', '/products');
    expect(products.status).toBe(200);
    expect(products.json).toMatchObject({ degraded: false, priceSource: 'live' });
    expect(products.json['products']).toHaveLength(5);

    const order = await call('POST', '/checkout', CART);
    expect(order.status).toBe(201);
    expect(order.json).toMatchObject({
      status: 'charged',
      degraded: false,
      priceSource: 'live',
      subtotalCents: 2998,
      recommendations: ['TEE-002', 'STK-003'],
    });
    expect(order.json['orderId']).toMatch(/^ord_/);
    expect(await sample('checkout_orders_total', 'mode="full"')).toBe(1);
    expect(await sample('http_requests_total', 'method="POST",route="/checkout",status="201"')).toBe(1);
    expect(await sample('http_request_duration_seconds_count', 'method="POST",route="/checkout"')).toBe(1);
  });

  it('answers 400 with the offending path for a bad cart, and for malformed JSON', async () => {
    const { call, sample } = await start();
    const bad = await call('POST', '/checkout', {
      items: [{ sku: 'NOPE', quantity: 1 }],
      payment: { token: 'tok_a' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: 'INVALID_CART', path: '$.items[0].sku' });
    const malformed = await call('POST', '/checkout', '{"items": [');
    expect(malformed.status).toBe(400);
    expect(malformed.json['error']).toBe('BAD_REQUEST');
    expect(await sample('http_requests_total', 'method="POST",route="/checkout",status="400"')).toBe(2);
  });

  it('declines the test token with 402 without charging', async () => {
    const { call, sample } = await start();
    const declined = await call('POST', '/checkout', { ...CART, payment: { token: 'tok_declined' } });
    expect(declined.status).toBe(402);
    expect(declined.json['error']).toBe('PAYMENT_DECLINED');
    expect(await sample('checkout_orders_total', 'mode="full"')).toBe(0);
  });

  it('charges once per Idempotency-Key and replays the same order', async () => {
    const { call, sample } = await start();
    const first = await call('POST', '/checkout', CART, { 'idempotency-key': 'k1' });
    const again = await call('POST', '/checkout', CART, { 'idempotency-key': 'k1' });
    const other = await call('POST', '/checkout', CART, { 'idempotency-key': 'k2' });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.json['orderId']).toBe(first.json['orderId']);
    expect(other.json['orderId']).not.toBe(first.json['orderId']);
    expect(await sample('checkout_orders_total', 'mode="full"')).toBe(2);
  });

  it('charges once when two requests with the same key race', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let arrivals = 0;
    let secondArrived: () => void = () => {};
    const second = new Promise<void>((resolve) => (secondArrived = resolve));
    const server = createCheckoutServer({ chaos: { latencyMs: 100 }, random: () => 0.5, sleep: () => gate });
    server.app.addHook('preHandler', async () => {
      arrivals += 1;
      if (arrivals === 2) secondArrived();
    });
    running.push(server);
    const url = await server.start();
    const post = () =>
      fetch(url + '/checkout', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'race' },
        body: JSON.stringify(CART),
      });
    const first = post();
    const duplicate = post();
    await second;
    setImmediate(release);
    const [a, b] = await Promise.all([first, duplicate]);
    const [orderA, orderB] = (await Promise.all([a.json(), b.json()])) as { orderId: string }[];
    expect([a.status, b.status].sort()).toEqual([200, 201]);
    expect(orderA!.orderId).toBe(orderB!.orderId);
    const metrics = await (await fetch(url + '/metrics')).text();
    expect(metrics).toContain('checkout_orders_total{mode="full"} 1');
  });

  it('lets a key whose attempt failed be retried', async () => {
    const { call } = await start({ chaos: { errorRate: 1 } });
    expect((await call('POST', '/checkout', CART, { 'idempotency-key': 'k' })).status).toBe(503);
    await call('PUT', '/admin/chaos', { errorRate: 0 });
    expect((await call('POST', '/checkout', CART, { 'idempotency-key': 'k' })).status).toBe(201);
  });

  it('labels unknown paths as one "unmatched" route so cardinality stays bounded', async () => {
    const { call, sample } = await start();
    expect((await call('GET', '/nope/1')).status).toBe(404);
    expect((await call('GET', '/nope/2')).json['error']).toBe('NOT_FOUND');
    expect(await sample('http_requests_total', 'method="GET",route="unmatched",status="404"')).toBe(2);
  });
});

describe('checkout service: chaos and degraded mode', () => {
  it('fails with 503 + Retry-After when the dependency fails, and degraded mode stops the errors', async () => {
    const { call, sample } = await start({ chaos: { errorRate: 1 } });
    const failed = await call('POST', '/checkout', CART);
    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toBe('1');
    expect(failed.json['error']).toBe('DEPENDENCY_UNAVAILABLE');
    expect((await call('GET', '/products')).status).toBe(503);
    expect(await sample('checkout_dependency_failures_total', '')).toBe(2);
    expect(await sample('http_requests_total', 'method="POST",route="/checkout",status="503"')).toBe(1);

    const put = await call('PUT', '/admin/chaos', { degradedMode: true });
    expect(put.json).toMatchObject({ degradedMode: true, errorRate: 1, degradedModeSource: 'admin' });
    const order = await call('POST', '/checkout', CART);
    expect(order.status).toBe(201);
    expect(order.json).toMatchObject({ degraded: true, priceSource: 'cache', recommendations: [] });
    expect((await call('GET', '/products')).json).toMatchObject({ degraded: true, priceSource: 'cache' });
    expect(await sample('checkout_degraded_mode', '')).toBe(1);
    expect(await sample('checkout_orders_total', 'mode="degraded"')).toBe(1);
  });

  it('waits the injected latency on the dependency, which degraded mode skips', async () => {
    const sleeps: number[] = [];
    const { call, sample } = await start({
      chaos: { latencyMs: 300, latencyJitterMs: 100 },
      random: () => 0.75,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    await call('POST', '/checkout', CART);
    expect(sleeps).toEqual([350]);
    expect(await sample('checkout_chaos_latency_seconds', '')).toBe(0.3);
    await call('PUT', '/admin/chaos', { degradedMode: true });
    await call('POST', '/checkout', CART);
    expect(sleeps).toEqual([350]);
  });

  it('exposes and changes the knobs at run time, rejecting invalid values with the list of knobs', async () => {
    const { call, sample } = await start();
    expect((await call('GET', '/admin/chaos')).json).toEqual({
      errorRate: 0,
      latencyMs: 0,
      latencyJitterMs: 0,
      degradedMode: false,
      readinessFailing: false,
      maxConcurrency: 0,
      degradedModeSource: 'env',
    });
    expect((await call('PUT', '/admin/chaos', { errorRate: 0.3 })).json['errorRate']).toBe(0.3);
    expect(await sample('checkout_chaos_error_rate', '')).toBe(0.3);
    const bad = await call('PUT', '/admin/chaos', { errorRate: 3 });
    expect(bad.status).toBe(400);
    expect(bad.json['message']).toMatch(/^\$\.errorRate: .*knobs are errorRate/);
    expect((await call('PUT', '/admin/chaos', { typo: true })).status).toBe(400);
    expect((await call('GET', '/admin/chaos')).json['errorRate']).toBe(0.3);
  });

  it('protects the admin endpoint with a bearer token when one is configured', async () => {
    const { call } = await start({ adminToken: 's3cret' });
    expect((await call('GET', '/admin/chaos')).status).toBe(401);
    expect(
      (await call('PUT', '/admin/chaos', { errorRate: 1 }, { authorization: 'Bearer wrong' })).status,
    ).toBe(401);
    expect((await call('GET', '/admin/chaos', undefined, { authorization: 'Bearer s3cret' })).status).toBe(
      200,
    );
    expect((await call('POST', '/checkout', CART)).status).toBe(201);
  });

  it('follows a mounted ConfigMap file: a config.set on the ConfigMap turns degraded mode on and off', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'checkout-cm-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'degraded_mode');
    await writeFile(path, 'false');
    const { server, call } = await start({
      chaos: { errorRate: 1, degradedMode: true },
      flagSource: fileFlagSource(path),
    });
    // The file's first value overrides the environment at start.
    expect((await call('POST', '/checkout', CART)).status).toBe(503);

    await writeFile(path, 'true');
    await server.watcher!.poll();
    expect((await call('POST', '/checkout', CART)).status).toBe(201);
    expect((await call('GET', '/admin/chaos')).json['degradedModeSource']).toBe(`config:file:${path}`);

    // An admin change sticks until the file itself changes again.
    await call('PUT', '/admin/chaos', { degradedMode: false });
    await server.watcher!.poll();
    expect((await call('POST', '/checkout', CART)).status).toBe(503);
    await writeFile(path, 'false');
    await server.watcher!.poll();
    await writeFile(path, 'true');
    await server.watcher!.poll();
    expect((await call('POST', '/checkout', CART)).status).toBe(201);
  });

  it('counts unreadable flag values and keeps the current mode', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'checkout-cm-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'degraded_mode');
    await writeFile(path, 'true');
    const { server, call, sample } = await start({ flagSource: fileFlagSource(path) });
    await writeFile(path, 'perhaps');
    await server.watcher!.poll();
    expect((await call('POST', '/checkout', CART)).json['degraded']).toBe(true);
    expect(await sample('checkout_config_source_errors_total', `source="file:${path}"`)).toBe(1);
  });

  it('maps an unexpected failure to 500 INTERNAL', async () => {
    const { call } = await start({
      chaos: { errorRate: 0.5 },
      random: () => {
        throw new RangeError('entropy exhausted');
      },
    });
    const failed = await call('POST', '/checkout', CART);
    expect(failed.status).toBe(500);
    expect(failed.json).toEqual({ error: 'INTERNAL', message: 'entropy exhausted' });
  });
});

describe('checkout service: operations', () => {
  it('is healthy and ready once started; readiness can be failed on purpose; stop closes the port', async () => {
    const { server, url, call } = await start();
    expect((await call('GET', '/healthz')).json).toEqual({ status: 'ok' });
    expect((await call('GET', '/readyz')).status).toBe(200);
    await call('PUT', '/admin/chaos', { readinessFailing: true });
    expect((await call('GET', '/readyz')).status).toBe(503);
    expect((await call('GET', '/healthz')).status).toBe(200);
    await server.stop();
    running = running.filter((s) => s !== server);
    await expect(fetch(url + '/healthz')).rejects.toThrow();
  });

  it('exports build info, default process metrics and the Prometheus content type', async () => {
    const { call } = await start({ version: '1.2.3', podName: 'checkout-abc-xyz' });
    const metrics = await call('GET', '/metrics');
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(metrics.text).toContain('checkout_build_info{version="1.2.3",pod="checkout-abc-xyz"} 1');
    expect(metrics.text).toMatch(/^process_start_time_seconds \d+/m);
    expect(metrics.text).toContain('checkout_degraded_mode 0');
    // Error series exist at zero before any error, so rate() sees the first failing scrape.
    expect(metrics.text).toContain('http_requests_total{method="POST",route="/checkout",status="503"} 0');
    expect(metrics.text).toContain('http_requests_total{method="GET",route="/products",status="503"} 0');
  });

  it('runs several replicas side by side, each with its own metrics', async () => {
    const a = await start();
    const b = await start();
    expect(a.url).not.toBe(b.url);
    await a.call('POST', '/checkout', CART);
    expect(await a.sample('checkout_orders_total', 'mode="full"')).toBe(1);
    expect(await b.sample('checkout_orders_total', 'mode="full"')).toBe(0);
  });
});
