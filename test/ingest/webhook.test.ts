import { afterEach, describe, expect, it } from 'vitest';
import { signWebhook } from '../../src/integrations/webhook/signature.ts';
import { fixture, makeTestApp, webhook, type TestApp } from '../support/app.ts';

const URL = '/v1/webhooks/alertmanager';
let t: TestApp;
afterEach(async () => t?.close());

const post = (body: unknown, headers: Record<string, string> = {}) =>
  t.app.http.inject({
    method: 'POST',
    url: URL,
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('POST /v1/webhooks/alertmanager', () => {
  it('stores each alert of a real Alertmanager payload as one EventBridge event', async () => {
    t = await makeTestApp();
    const res = await post(fixture('firing'));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ accepted: 1, duplicates: 0 });
    const items = (await t.app.events.listEvents({ limit: 10 })).items.filter(
      (e) => e.envelope.source === 'rebound.alertmanager',
    );
    expect(items).toHaveLength(1);
    const envelope = items[0]!.envelope;
    expect(Object.keys(envelope).sort()).toEqual(
      ['account', 'detail', 'detail-type', 'id', 'region', 'resources', 'source', 'time', 'version'].sort(),
    );
    expect(envelope).toMatchObject({
      version: '0',
      'detail-type': 'Alertmanager Alert',
      source: 'rebound.alertmanager',
      detail: {
        status: 'firing',
        labels: { alertname: 'HighErrorRate', severity: 'page' },
        annotations: { summary: '5xx ratio 11.75%' },
        startsAt: '2026-11-25T20:07:03.667Z',
        endsAt: '0001-01-01T00:00:00Z',
        fingerprint: '3eacacedc5464f06',
        groupKey: '{}:{alertname="HighErrorRate"}',
        receiver: 'hook',
        externalURL: 'http://vm:19093',
      },
    });
    expect(envelope.detail['correlationId']).toBe(items[0]!.correlationId);
  });

  it('acknowledges duplicates (HA pairs, retries) and records them once', async () => {
    t = await makeTestApp();
    const first = (await post(fixture('firing'))).json();
    expect(first).toMatchObject({ accepted: 1, duplicates: 0 });
    const again = (await post(fixture('firing'))).json();
    expect(again).toMatchObject({ accepted: 0, duplicates: 1 });
    // The duplicate is answered with the event stored the first time, which can be looked up.
    expect(again.events).toEqual([{ ...first.events[0], outcome: 'duplicate' }]);
    expect((await t.app.http.inject({ url: `/v1/events/${first.events[0].id}` })).statusCode).toBe(200);
    expect((await post(fixture('resolved'))).json()).toMatchObject({ accepted: 1, duplicates: 0 });
    // Alert events only: the incident's lifecycle events (Incident Opened / Resolved) share the log.
    const alerts = (await t.app.events.listEvents({ limit: 10 })).items.filter(
      (e) => e.envelope.source === 'rebound.alertmanager',
    );
    expect(alerts).toHaveLength(2);
    const metrics = await t.app.metrics.registry.getSingleMetricAsString('rebound_alerts_duplicate_total');
    expect(metrics).toContain('rebound_alerts_duplicate_total 1');
  });

  it("acknowledges a firing copy that arrives after the alert's resolution without storing it", async () => {
    t = await makeTestApp();
    // An HA replica's retried firing lands after the other replica's resolved: both for one startsAt.
    const resolved = (await post(fixture('resolved'))).json();
    expect(resolved).toMatchObject({ accepted: 1, duplicates: 0, stale: 0 });
    const late = (await post(fixture('firing'))).json();
    expect(late).toMatchObject({ accepted: 0, duplicates: 0, stale: 1 });
    // Answered with the resolution that superseded it.
    expect(late.events).toEqual([{ ...resolved.events[0], outcome: 'stale' }]);
    await t.app.settle();
    expect((await t.app.incidents.list({ limit: 5 })).items).toEqual([]);
    const metrics = await t.app.metrics.registry.getSingleMetricAsString('rebound_alerts_stale_total');
    expect(metrics).toContain('rebound_alerts_stale_total 1');
    // The same labels firing again start at a new startsAt: a new alert, stored, and it opens an incident.
    const again = fixture('firing');
    (again['alerts'] as Record<string, unknown>[])[0]!['startsAt'] = '2026-11-25T21:00:00Z';
    expect((await post(again)).json()).toMatchObject({ accepted: 1, stale: 0 });
    await t.app.settle();
    expect((await t.app.incidents.list({ limit: 5 })).items).toHaveLength(1);
  });

  it('counts the alerts Alertmanager says it left out (max_alerts) and says so in the answer', async () => {
    t = await makeTestApp();
    const payload = fixture('firing');
    payload['truncatedAlerts'] = 3;
    expect((await post(payload)).json()).toMatchObject({ accepted: 1, truncated: 3 });
    expect((await post(fixture('resolved'))).json()).toMatchObject({ truncated: 0 });
    const metrics = await t.app.metrics.registry.getSingleMetricAsString('rebound_alerts_truncated_total');
    expect(metrics).toContain('rebound_alerts_truncated_total 3');
  });

  it('tolerates unknown fields and computes a missing fingerprint', async () => {
    t = await makeTestApp();
    const payload = fixture('firing');
    payload['notification_reason'] = 'new';
    payload['routeLabels'] = { team: 'a' };
    const alerts = payload['alerts'] as Record<string, unknown>[];
    delete alerts[0]!['fingerprint'];
    alerts[0]!['extra'] = true;
    expect((await post(payload)).statusCode).toBe(200);
    const { items } = await t.app.events.listEvents({ limit: 1 });
    expect(items[0]!.envelope.detail['fingerprint']).toBe('3eacacedc5464f06');
  });

  it.each([
    ['malformed JSON', '{"version":', '$', /not valid JSON/],
    ['wrong version', { ...fixture('firing'), version: '3' }, 'version', /version "4"/],
    [
      'missing groupKey',
      (() => {
        const p = fixture('firing');
        delete p['groupKey'];
        return p;
      })(),
      'groupKey',
      /expected string/,
    ],
    [
      'label of wrong type',
      {
        ...fixture('firing'),
        alerts: [{ ...(fixture('firing')['alerts'] as object[])[0], labels: { a: 1 } }],
      },
      'alerts[0].labels.a',
      /expected string/,
    ],
    [
      'bad timestamp',
      {
        ...fixture('firing'),
        alerts: [{ ...(fixture('firing')['alerts'] as object[])[0], startsAt: 'yesterday' }],
      },
      'alerts[0].startsAt',
      /RFC 3339/,
    ],
    [
      'wrong fingerprint',
      {
        ...fixture('firing'),
        alerts: [{ ...(fixture('firing')['alerts'] as object[])[0], fingerprint: '0000000000000000' }],
      },
      'alerts[0].fingerprint',
      /does not match/,
    ],
    ['no alerts', { ...fixture('firing'), alerts: [] }, 'alerts', /at least one alert/],
    ['an array', [], '$', /expected object/],
  ])('rejects %s with 400 naming the field', async (_name, body, path, message) => {
    t = await makeTestApp();
    const res = await post(body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'INVALID_PAYLOAD', path });
    expect(res.json().message).toMatch(message);
    expect((await t.app.events.listEvents({ limit: 1 })).items).toHaveLength(0);
  });

  it.each(['2026-02-30T10:00:00Z', '2026-13-45T99:99:99Z', '2026-01-01T10:00:00+99:99'])(
    'rejects a timestamp that does not exist (%s) with 400 naming the field',
    async (startsAt) => {
      t = await makeTestApp();
      const alert = { ...(fixture('firing')['alerts'] as object[])[0], startsAt };
      const res = await post({ ...fixture('firing'), alerts: [alert] });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'INVALID_PAYLOAD', path: 'alerts[0].startsAt' });
      expect(res.json().message).toMatch(/an RFC 3339 timestamp that exists/);
      expect((await t.app.events.listEvents({ limit: 1 })).items).toHaveLength(0);
    },
  );

  it('answers 413 above the body limit and 415 for other content types', async () => {
    t = await makeTestApp({ server: { bodyLimitBytes: 1024 } });
    const big = fixture('firing');
    big['commonAnnotations'] = { description: 'x'.repeat(2000) };
    const res = await post(big);
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe('PAYLOAD_TOO_LARGE');
    const text = await t.app.http.inject({
      method: 'POST',
      url: URL,
      headers: { 'content-type': 'text/plain' },
      payload: 'hi',
    });
    expect(text.statusCode).toBe(415);
    // Form posts are for Slack's interactions route only.
    for (const url of [URL, '/v1/incidents/inc-1/acknowledge']) {
      const form = await t.app.http.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'a=b',
      });
      expect(form.statusCode).toBe(415);
      expect(form.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    // Each refusal of the webhook is counted by its reason (the acknowledge route is not a webhook).
    const rejects = await t.app.metrics.registry.getSingleMetricAsString('rebound_ingest_rejects_total');
    expect(rejects).toContain('reason="too_large"} 1');
    expect(rejects).toContain('reason="unsupported"} 2');
  });

  it('requires the bearer token when configured', async () => {
    t = await makeTestApp({ server: { auth: { webhookTokens: ['s3cret-token-0123456789'] } } });
    expect((await post(fixture('firing'))).statusCode).toBe(401);
    expect(
      (await post(fixture('firing'), { authorization: 'Bearer wrong-token-0123456789' })).statusCode,
    ).toBe(401);
    const ok = await post(fixture('firing'), { authorization: 'Bearer s3cret-token-0123456789' });
    expect(ok.statusCode).toBe(200);
    const rejects = await t.app.metrics.registry.getSingleMetricAsString('rebound_ingest_rejects_total');
    expect(rejects).toContain('reason="unauthorized"} 2');
  });

  it('verifies the HMAC signature and its replay window', async () => {
    const secret = 'hmac-secret-0123456789abcdef';
    const now = new Date('2026-11-25T21:00:00Z');
    t = await makeTestApp({ server: { auth: { hmac: { secret, toleranceSeconds: 300 } } } }, () => now);
    const body = JSON.stringify(fixture('firing'));
    const ts = String(now.getTime() / 1000);
    const sign = (timestamp: string, b = body) => ({
      'x-rebound-timestamp': timestamp,
      'x-rebound-signature': signWebhook(secret, timestamp, b),
    });
    expect((await post(body)).statusCode).toBe(401);
    expect((await post(body, sign(ts))).statusCode).toBe(200);
    expect(
      (await post(body, { ...sign(ts), 'x-rebound-signature': signWebhook(secret, ts, body + ' ') }))
        .statusCode,
    ).toBe(401);
    const stale = String(now.getTime() / 1000 - 301);
    const res = await post(body, sign(stale));
    expect(res.statusCode).toBe(401);
    expect(res.json().message).toMatch(/replay window/);
    for (const odd of ['abc', `${ts}.5`, '-1']) {
      const bad = await post(body, sign(odd));
      expect(bad.statusCode).toBe(401);
      expect(bad.json().message).toBe('x-rebound-timestamp must be the Unix time in whole seconds');
    }
  });

  it('checks the HMAC signature before it parses the body', async () => {
    const secret = 'hmac-secret-0123456789abcdef';
    const now = new Date('2026-11-25T21:00:00Z');
    t = await makeTestApp({ server: { auth: { hmac: { secret, toleranceSeconds: 300 } } } }, () => now);
    const ts = String(now.getTime() / 1000);
    // Unsigned, it is refused as unauthenticated whatever it holds: it was never parsed.
    const unsigned = await post('{"not json');
    expect(unsigned.statusCode).toBe(401);
    expect(unsigned.json().message).toMatch(/HMAC signing is required/);
    // Signed, the same bytes reach the parser, which says what is wrong with them.
    const signed = await post('{"not json', {
      'x-rebound-timestamp': ts,
      'x-rebound-signature': signWebhook(secret, ts, '{"not json'),
    });
    expect(signed.statusCode).toBe(400);
    expect(signed.json().code).toBe('INVALID_PAYLOAD');
    const rejects = await t.app.metrics.registry.getSingleMetricAsString('rebound_ingest_rejects_total');
    expect(rejects).toContain('reason="unauthorized"} 1');
    expect(rejects).toContain('reason="invalid"} 1');
  });

  it('refuses a missing or malformed signature header 401 before it judges the body', async () => {
    const secret = 'hmac-secret-0123456789abcdef';
    const token = 's3cret-token-0123456789';
    const now = new Date('2026-11-25T21:00:00Z');
    t = await makeTestApp(
      { server: { auth: { webhookTokens: [token], hmac: { secret, toleranceSeconds: 300 } } } },
      () => now,
    );
    const ts = String(now.getTime() / 1000);
    const send = (headers: Record<string, string>, payload?: string) =>
      t.app.http.inject({
        method: 'POST',
        url: URL,
        headers: { authorization: `Bearer ${token}`, ...headers },
        ...(payload === undefined ? {} : { payload }),
      });
    // No body and no Content-Type (Fastify runs no parser), or a type the route does not take: the missing
    // signature is what is wrong, not the body.
    for (const [headers, payload] of [
      [{}, undefined],
      [{ 'content-type': 'text/plain' }, 'hi'],
      [{ 'content-type': 'application/json' }, ''],
    ] as const) {
      const unsigned = await send(headers, payload);
      expect(unsigned.statusCode, JSON.stringify(headers)).toBe(401);
      expect(unsigned.json().message).toMatch(
        /^missing x-rebound-timestamp and x-rebound-signature headers \(HMAC signing is required: send x-rebound-timestamp, the Unix time in seconds, and x-rebound-signature, v1= and the hex HMAC-SHA256 of/,
      );
    }
    const noSignature = await send({ 'x-rebound-timestamp': ts });
    expect(noSignature.statusCode).toBe(401);
    expect(noSignature.json().message).toMatch(/^missing x-rebound-signature header \(/);
    const malformed = await send({ 'x-rebound-timestamp': ts, 'x-rebound-signature': 'sha256=abc' });
    expect(malformed.statusCode).toBe(401);
    expect(malformed.json().message).toBe(
      'x-rebound-signature must be v1= followed by the HMAC-SHA256 in 64 lowercase hex digits',
    );
    const badTimestamp = await send({
      'x-rebound-timestamp': 'now',
      'x-rebound-signature': signWebhook(secret, ts, ''),
    });
    expect(badTimestamp.json().message).toBe('x-rebound-timestamp must be the Unix time in whole seconds');
    // Well-formed headers: the signature is still checked over the (empty) raw body, then the body is judged.
    const wrong = await send({
      'x-rebound-timestamp': ts,
      'x-rebound-signature': signWebhook(secret, ts, 'x'),
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().message).toBe('body signature does not match');
    const signedEmpty = await send({
      'x-rebound-timestamp': ts,
      'x-rebound-signature': signWebhook(secret, ts, ''),
    });
    expect(signedEmpty.statusCode).toBe(400);
    expect(signedEmpty.json().message).toMatch(/^empty body/);
  });

  it('sheds load with 503 and Retry-After, never 429', async () => {
    t = await makeTestApp({ ingest: { maxQueueDepth: 1, retryAfterSeconds: 7 } });
    const one = webhook([{ labels: { alertname: 'A' } }]);
    const two = webhook([{ labels: { alertname: 'B' } }, { labels: { alertname: 'C' } }]);
    // The first waits for its commit when the second arrives: the second would overflow the queue.
    const [first, res] = await Promise.all([post(one), post(two)]);
    expect(first.statusCode).toBe(200);
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.json().code).toBe('OVERLOADED');
    // Larger than the whole limit on its own, it is let in once nothing waits (or it could never be).
    expect((await post(two)).statusCode).toBe(200);
  });
});
