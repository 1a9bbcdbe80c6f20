import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { httpCall } from '../../src/integrations/http.ts';
import { displayUrl, scrubUrls, withoutUserinfo } from '../../src/integrations/urls.ts';
import { makeTestApp } from '../support/app.ts';

// Configured URLs may carry secrets (userinfo, query, a capability path): they are sent, never shown.

describe('URLs with secrets', () => {
  it('splits userinfo off as a Basic credential, and shows URLs without their secrets', () => {
    expect(withoutUserinfo('https://u%40x:p%3Aw@host.example/path?q=1')).toEqual({
      url: 'https://host.example/path?q=1',
      authorization: `Basic ${Buffer.from('u@x:p:w').toString('base64')}`,
    });
    expect(withoutUserinfo('https://host.example/')).toEqual({ url: 'https://host.example/' });
    expect(withoutUserinfo('https://u:100%zz@host.example/').authorization).toBe(
      `Basic ${Buffer.from('u:100%zz').toString('base64')}`,
    );
    expect(displayUrl('http://u:SECRET@prom:9090/prometheus?token=SECRET')).toBe(
      'http://prom:9090/prometheus',
    );
    expect(scrubUrls('cannot fetch http://u:SECRET@h:1/hooks/SECRET?t=SECRET now')).toBe(
      'cannot fetch http://h:1 now',
    );
    // Quotes inside userinfo or query do not end the URL; punctuation after it stays.
    expect(scrubUrls("failed: http://u:pa'SECRET@h.example/x?token=ab'SECRET.")).toBe(
      'failed: http://h.example.',
    );
    expect(scrubUrls("('http://h:8080/x?k=SECRET'): refused")).toBe("('http://h:8080'): refused");
  });

  it('httpCall sends URL credentials as Basic authorization, and its errors never quote them', async () => {
    const seen: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const call = { service: 'webhook', method: 'POST', timeoutMs: 2000, label: 'the webhook' } as const;
      const answer = await httpCall({ ...call, url: `http://pd:SECRETPASS@127.0.0.1:${port}/x` });
      expect(answer.status).toBe(200);
      expect(seen).toEqual([`Basic ${Buffer.from('pd:SECRETPASS').toString('base64')}`]);
      // An authorization header of its own wins.
      await httpCall({
        ...call,
        url: `http://pd:SECRETPASS@127.0.0.1:${port}/x`,
        headers: { Authorization: 'Bearer t' },
      });
      expect(seen[1]).toBe('Bearer t');
      const failed = await httpCall({ ...call, url: 'http://pd:SECRETPASS@127.0.0.1:1/x?k=SECRETQ' }).catch(
        (err: Error) => err,
      );
      expect(String((failed as Error).message)).toMatch(/^the webhook: cannot connect/);
      expect(String((failed as Error).message)).not.toMatch(/SECRET/);
      const odd = await httpCall({
        ...call,
        url: 'http://127.0.0.1:1/x',
        fetch: () => Promise.reject(new TypeError('bad request to http://u:SECRET@h/x?SECRET')),
      }).catch((err: Error) => err);
      expect((odd as Error).message).toContain('bad request to http://h');
      expect((odd as Error).message).not.toMatch(/SECRET/);
    } finally {
      server.close();
    }
  });

  it('httpCall refuses an answer larger than its limit, without reading the rest', async () => {
    const server = createServer((_req, res) => {
      res.write('x'.repeat(64 * 1024));
      res.end('y'.repeat(64 * 1024));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const call = {
        service: 'prometheus',
        method: 'GET',
        url: `http://127.0.0.1:${port}/api/v1/query`,
        timeoutMs: 2000,
        label: 'Prometheus',
      } as const;
      const refused = await httpCall({ ...call, maxResponseBytes: 100_000 }).catch((err: unknown) => err);
      expect(refused).toMatchObject({
        kind: 'bad_response',
        retryable: false,
        message: expect.stringMatching(/^Prometheus: the answer is larger than 100000 bytes/),
      });
      expect((await httpCall(call)).text).toHaveLength(128 * 1024);
    } finally {
      server.close();
    }
  });

  it('the dashboard links to Prometheus and Alertmanager without credentials or query', async () => {
    const t = await makeTestApp({
      verify: {
        prometheus: { url: 'http://promuser:SECRETPROM@127.0.0.1:9090/prom' },
        alertmanager: { url: 'http://127.0.0.1:9093/am?token=SECRETAM' },
      },
    });
    try {
      const res = await t.app.http.inject({ url: '/v1/dashboard' });
      expect(res.json().links).toEqual({
        prometheus: 'http://127.0.0.1:9090/prom',
        alertmanager: 'http://127.0.0.1:9093/am',
      });
    } finally {
      await t.close();
    }
  });
});
