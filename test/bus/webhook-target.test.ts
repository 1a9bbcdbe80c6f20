import { getEventListeners } from 'node:events';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Delivery } from '../../src/bus/port.ts';
import { DeliveryError, type DeliveryItem } from '../../src/bus/targets/target.ts';
import { webhookTarget } from '../../src/bus/targets/webhook.ts';
import { signWebhook } from '../../src/integrations/webhook/signature.ts';
import { HttpReceiver } from '../support/http-receiver.ts';

const receivers: HttpReceiver[] = [];
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.stop();
});

async function receiver(): Promise<HttpReceiver> {
  const r = await new HttpReceiver().start();
  receivers.push(r);
  return r;
}

const NOW = new Date('2026-11-26T04:00:00Z');

function item(body = '{"n":1}'): DeliveryItem {
  const delivery = { id: 1, eventId: 'evt-1', rule: 'orders', target: 'orders/rx' } as Delivery;
  return {
    delivery,
    event: {
      envelope: {
        version: '0',
        id: 'evt-1',
        'detail-type': 'order',
        source: 'shop',
        account: '000000000000',
        time: NOW.toISOString(),
        region: 'local',
        resources: [],
        detail: { n: 1 },
      },
      correlationId: 'corr-1',
      dedupKey: 'evt-1',
      receivedAt: NOW.toISOString(),
    },
    input: { value: JSON.parse(body) as unknown, body },
  };
}

const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (err: unknown) => err as DeliveryError,
  );

describe('webhook target', () => {
  it('POSTs the input with the event headers and an HMAC signature over timestamp and body', async () => {
    const rx = await receiver();
    const target = webhookTarget({
      url: `${rx.url}/hook`,
      secret: 's3cret',
      headers: { 'x-team': 'sre' },
      timeoutMs: 1000,
      now: () => NOW,
    });
    await target.deliver!(item(), new AbortController().signal);
    await target.deliver!(item('{"n":2}'), new AbortController().signal); // the kept-alive socket again
    expect(rx.received).toHaveLength(2);
    const [first] = rx.received;
    expect(first).toMatchObject({ method: 'POST', path: '/hook', body: '{"n":1}' });
    const timestamp = String(NOW.getTime() / 1000);
    expect(first!.headers).toMatchObject({
      'content-type': 'application/json',
      'x-team': 'sre',
      'x-rebound-event-id': 'evt-1',
      'x-rebound-correlation-id': 'corr-1',
      'x-rebound-rule': 'orders',
      'x-rebound-timestamp': timestamp,
      'x-rebound-signature': signWebhook('s3cret', timestamp, '{"n":1}'),
    });
  });

  it('retries 5xx, 429 and 408; a redirect or another 4xx is permanent', async () => {
    const rx = await receiver();
    const target = webhookTarget({ url: rx.url, headers: {}, timeoutMs: 1000, now: () => NOW });
    for (const [status, retryable] of [
      [503, true],
      [429, true],
      [408, true],
      [302, false],
      [404, false],
    ] as const) {
      rx.script.push(status);
      const err = await failure(target.deliver!(item(), new AbortController().signal));
      expect(err).toBeInstanceOf(DeliveryError);
      expect(err!.message).toContain(`answered ${status}`);
      expect(err!.retryable).toBe(retryable);
    }
  });

  it("passes on a retryable answer's Retry-After, so the next attempt waits at least that long", async () => {
    const rx = await receiver();
    rx.answerHeaders = { 'retry-after': '7' };
    const target = webhookTarget({ url: rx.url, headers: {}, timeoutMs: 1000, now: () => NOW });
    rx.script.push(429, 404);
    const limited = await failure(target.deliver!(item(), new AbortController().signal));
    expect(limited).toMatchObject({ retryable: true, retryAfterMs: 7000 });
    const gone = await failure(target.deliver!(item(), new AbortController().signal));
    expect(gone).toMatchObject({ retryable: false, retryAfterMs: undefined });
  });

  it('gives up on a target that does not answer in time (retryable), and on shutdown', async () => {
    const rx = await receiver();
    rx.delayMs = 500;
    const target = webhookTarget({ url: rx.url, headers: {}, timeoutMs: 50, now: () => NOW });
    const late = await failure(target.deliver!(item(), new AbortController().signal));
    expect(late!.retryable).toBe(true);
    expect(late!.message).toMatch(/failed: no answer within 50 ms/);
    const stop = new AbortController();
    const pending = failure(
      webhookTarget({ url: rx.url, headers: {}, timeoutMs: 5000, now: () => NOW }).deliver!(
        item(),
        stop.signal,
      ),
    );
    stop.abort(new Error('shutting down'));
    expect((await pending)!.message).toMatch(/failed:/);
  });

  it('gives up at the deadline on a target that answers its headers and then stalls the body', async () => {
    // undici's own headers and body timeouts are off (the deadline is ours): this is the case they covered.
    const stalled = new Set<ServerResponse>();
    const server = createHttpServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-length': '10' });
      res.write('12345'); // half the promised body, and then nothing
      stalled.add(res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const target = webhookTarget({ url, headers: {}, timeoutMs: 100, now: () => NOW });
      const late = await failure(target.deliver!(item(), new AbortController().signal));
      expect(late).toMatchObject({ retryable: true });
      expect(late!.message).toMatch(/failed: no answer within 100 ms/);
      await target.close!();
    } finally {
      for (const res of stalled) res.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('holds each POST to its own deadline while others come and go, and a shutdown ends every one', async () => {
    const rx = await receiver();
    rx.delayMs = 1000;
    const target = webhookTarget({ url: rx.url, headers: {}, timeoutMs: 150, now: () => NOW });
    const started = performance.now();
    const endedAt = (p: Promise<void>) =>
      failure(p).then((err) => ({ err, at: performance.now() - started }));
    const first = endedAt(target.deliver!(item(), new AbortController().signal));
    await new Promise((r) => setTimeout(r, 100));
    const second = endedAt(target.deliver!(item(), new AbortController().signal));
    const [a, b] = await Promise.all([first, second]);
    for (const { err } of [a, b]) expect(err!.message).toMatch(/failed: no answer within 150 ms/);
    // The second (started 100 ms or more in) was given its full 150 ms, not cut short with the first.
    // A lower bound only: timers never fire early, a busy machine only makes them late.
    expect(b.at).toBeGreaterThanOrEqual(245);

    const stop = new AbortController();
    const patient = webhookTarget({ url: rx.url, headers: {}, timeoutMs: 30_000, now: () => NOW });
    const all = Array.from({ length: 3 }, () => failure(patient.deliver!(item(), stop.signal)));
    await new Promise((r) => setTimeout(r, 20));
    stop.abort(new Error('shutting down'));
    for (const err of await Promise.all(all)) expect(err!.message).toMatch(/failed: shutting down/);
    // Once shut down, a delivery fails at once.
    expect((await failure(patient.deliver!(item(), stop.signal)))!.message).toMatch(/shutting down/);
    await Promise.all([target.close!(), patient.close!()]);
  });

  it("stops listening to the worker's shutdown signal once a reload closed it", async () => {
    const rx = await receiver();
    const shutdown = new AbortController();
    const listeners = () => getEventListeners(shutdown.signal, 'abort').length;
    const before = listeners();
    const target = webhookTarget({ url: rx.url, headers: {}, timeoutMs: 1000, now: () => NOW });
    await target.deliver!(item(), shutdown.signal);
    await target.deliver!(item(), shutdown.signal);
    expect(listeners()).toBe(before + 1); // one per target, not one per POST
    await target.close!();
    expect(listeners()).toBe(before);
  });

  it('sends credentials in the URL as basic auth, unless an authorization header is configured', async () => {
    const rx = await receiver();
    const withCredentials = rx.url.replace('http://', 'http://ops:p%40ss@');
    await webhookTarget({ url: `${withCredentials}/hook?x=1`, headers: {}, timeoutMs: 1000, now: () => NOW })
      .deliver!(item(), new AbortController().signal);
    await webhookTarget({
      url: withCredentials,
      headers: { Authorization: 'Bearer t0ken' },
      timeoutMs: 1000,
      now: () => NOW,
    }).deliver!(item(), new AbortController().signal);
    expect(rx.received[0]).toMatchObject({ path: '/hook?x=1' });
    expect(rx.received[0]!.headers['authorization']).toBe(
      `Basic ${Buffer.from('ops:p@ss').toString('base64')}`,
    );
    expect(rx.received[1]!.headers['authorization']).toBe('Bearer t0ken');
  });

  it('gives up in time while the connection is still being set up (a TLS handshake that never answers)', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => void sockets.add(socket)); // accepts TCP, never speaks TLS
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    try {
      const target = webhookTarget({
        url: `https://127.0.0.1:${port}/`,
        headers: {},
        timeoutMs: 100,
        now: () => NOW,
      });
      const late = await failure(target.deliver!(item(), new AbortController().signal));
      expect(late!.message).toMatch(/failed: no answer within 100 ms/); // not undici's 10 s connect timeout
      const stop = new AbortController();
      const slow = webhookTarget({
        url: `https://127.0.0.1:${port}/`,
        headers: {},
        timeoutMs: 30_000,
        now: () => NOW,
      });
      const pending = failure(slow.deliver!(item(), stop.signal));
      setTimeout(() => stop.abort(new Error('shutting down')), 50);
      expect((await pending)!.message).toMatch(/failed: shutting down/);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('closes once the delivery already under way has finished (a reload replaced it)', async () => {
    const rx = await receiver();
    rx.delayMs = 100;
    const target = webhookTarget({ url: rx.url, headers: {}, timeoutMs: 1000, now: () => NOW });
    const underWay = target.deliver!(item(), new AbortController().signal);
    await new Promise((r) => setTimeout(r, 20));
    const closed = target.close!();
    await underWay;
    await closed;
    expect(rx.received).toHaveLength(1);
    const after = await failure(target.deliver!(item(), new AbortController().signal));
    expect(after).toBeInstanceOf(DeliveryError);
    expect(rx.received).toHaveLength(1);
  });

  it('names only the URL’s origin when it fails: credentials, query and path (a capability) stay out', async () => {
    const target = webhookTarget({
      url: 'http://user:pw@127.0.0.1:1/hook/SECRETPATH?token=abc',
      headers: {},
      timeoutMs: 1000,
      now: () => NOW,
    });
    const err = await failure(target.deliver!(item(), new AbortController().signal));
    expect(err!.message).toContain('POST to http://127.0.0.1:1 failed');
    expect(err!.message).not.toMatch(/pw|token|SECRETPATH/);
  });
});
