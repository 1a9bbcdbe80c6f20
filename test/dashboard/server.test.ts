import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/http/auth.ts';
import { buildReport, type AnalyticsIncident } from '../../src/incidents/analytics.ts';
import { makeTestApp, tempDir, webhook, type TestApp } from '../support/app.ts';
import { runCli } from '../support/process.ts';

// Server side of the dashboard without a browser: tokens, sessions, CSRF, same-origin writes, the event
// stream, and analytics (numbers checked by hand below).

describe('rebound tokens create', () => {
  it('prints a token and the hashed config entry that authenticates it with its role', async () => {
    const out = await runCli(['tokens', 'create', '--role', 'viewer', '--name', 'vera', '-o', 'json']);
    expect(out.code).toBe(0);
    const { token, entry } = JSON.parse(out.stdout) as {
      token: string;
      entry: { name: string; role: string; sha256: string };
    };
    expect(entry).toMatchObject({ name: 'vera', role: 'viewer' });
    expect(out.stdout.match(new RegExp(token, 'g'))).toHaveLength(1);
    const t = await makeTestApp({ server: { auth: { apiTokens: [entry as never] } } });
    try {
      const auth = { authorization: `Bearer ${token}` };
      expect((await t.app.http.inject({ url: '/v1/incidents', headers: auth })).statusCode).toBe(200);
      const ack = await t.app.http.inject({
        method: 'POST',
        url: '/v1/dlq/redrive',
        headers: auth,
        payload: {},
      });
      expect(ack.statusCode).toBe(403);
    } finally {
      await t.close();
    }
  });

  it('refuses an unknown role as a usage error', async () => {
    const out = await runCli(['tokens', 'create', '--role', 'root']);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('viewer');
  });
});

describe('sessions, CSRF and the stream', () => {
  const TOKEN = 'operator-token-0123456789abcdef';
  let t: TestApp;
  let url: string;

  beforeAll(async () => {
    t = await makeTestApp({
      server: { auth: { apiTokens: [{ name: 'olivia', role: 'operator', token: TOKEN }] } },
    });
    url = `http://127.0.0.1:${(t.app.http.server.address() as AddressInfo).port}`;
  });
  afterAll(() => t.close());

  const signIn = async () => {
    const res = await t.app.http.inject({ method: 'POST', url: '/v1/session', payload: { token: TOKEN } });
    expect(res.statusCode).toBe(200);
    const cookie = String(res.headers['set-cookie']).split(';')[0]!;
    return { cookie, csrf: res.json<{ csrfToken: string }>().csrfToken };
  };

  it('says it needs a token, and refuses a wrong one', async () => {
    const view = await t.app.http.inject({ url: '/v1/session' });
    expect(view.json()).toEqual({ mode: 'token', principal: null, csrfToken: null });
    const wrong = await t.app.http.inject({
      method: 'POST',
      url: '/v1/session',
      payload: { token: 'x'.repeat(20) },
    });
    expect(wrong.statusCode).toBe(401);
    expect((await t.app.http.inject({ url: '/v1/incidents' })).statusCode).toBe(401);
    // Open to anyone, so parsed before any credential: a body no token needs is refused unread.
    const huge = await t.app.http.inject({
      method: 'POST',
      url: '/v1/session',
      payload: { token: 'x'.repeat(8192) },
    });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().message).toBe("request body is larger than this route's 4096 bytes");
  });

  it('maps a session to the token role; writes need the CSRF token', async () => {
    const { cookie, csrf } = await signIn();
    const get = await t.app.http.inject({ url: '/v1/incidents', headers: { cookie } });
    expect(get.statusCode).toBe(200);
    const write = (headers: Record<string, string>) =>
      t.app.http.inject({
        method: 'POST',
        url: '/v1/dlq/redrive',
        headers: { cookie, ...headers },
        payload: {},
      });
    expect((await write({})).statusCode).toBe(403);
    expect((await write({ 'x-csrf-token': csrf.slice(1) })).statusCode).toBe(403);
    expect((await write({ 'x-csrf-token': csrf })).statusCode).toBe(200);
    // A tampered cookie is no session at all.
    const forged = cookie.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    expect((await t.app.http.inject({ url: '/v1/incidents', headers: { cookie: forged } })).statusCode).toBe(
      401,
    );
  });

  it('ends a session on the server when it signs out (with its CSRF token): a kept copy of the cookie is refused, after a restart too', async () => {
    const dir = tempDir('rebound-signout-').path;
    const config = {
      server: { auth: { apiTokens: [{ name: 'olivia', role: 'operator' as const, token: TOKEN }] } },
    };
    let app = await makeTestApp(config, undefined, dir);
    try {
      const signedIn = await app.app.http.inject({
        method: 'POST',
        url: '/v1/session',
        payload: { token: TOKEN },
      });
      const cookie = String(signedIn.headers['set-cookie']).split(';')[0]!;
      const other = await app.app.http.inject({
        method: 'POST',
        url: '/v1/session',
        payload: { token: TOKEN },
      });
      const otherCookie = String(other.headers['set-cookie']).split(';')[0]!;
      const incidents = (c: string) => app.app.http.inject({ url: '/v1/incidents', headers: { cookie: c } });
      expect((await incidents(cookie)).statusCode).toBe(200);

      // Signing out is a write made with the session: without its CSRF token (a page elsewhere, which
      // cannot read it) it is refused, and the session goes on.
      const forged = await app.app.http.inject({ method: 'DELETE', url: '/v1/session', headers: { cookie } });
      expect(forged.statusCode).toBe(403);
      expect(forged.headers['set-cookie']).toBeUndefined();
      expect((await incidents(cookie)).statusCode).toBe(200);

      const csrf = String(signedIn.json().csrfToken);
      const out = await app.app.http.inject({
        method: 'DELETE',
        url: '/v1/session',
        headers: { cookie, 'x-csrf-token': csrf },
      });
      expect(out.statusCode).toBe(204);
      expect(String(out.headers['set-cookie'])).toMatch(/rebound_session=;.*Max-Age=0/);
      const ended = await incidents(cookie);
      expect(ended.statusCode).toBe(401);
      expect(ended.json().message).toMatch(/^the session has ended .*; sign in again$/);
      expect((await app.app.http.inject({ url: '/v1/session', headers: { cookie } })).json()).toMatchObject({
        principal: null,
      });
      // Only that session: the same person's other session (another browser) goes on.
      expect((await incidents(otherCookie)).statusCode).toBe(200);

      await app.app.stop();
      app = await makeTestApp(config, undefined, dir); // same data dir: same signing key, same store
      expect((await incidents(otherCookie)).statusCode).toBe(200);
      expect((await incidents(cookie)).statusCode).toBe(401);
    } finally {
      await app.close();
    }
  });

  it('keeps in the cookie neither the token nor its plain SHA-256, only a digest keyed by the server', async () => {
    const { cookie } = await signIn();
    const value = decodeURIComponent(cookie.split('=')[1]!);
    const payload = Buffer.from(value.slice(0, value.lastIndexOf('.')), 'base64url').toString('utf8');
    expect(Object.keys(JSON.parse(payload) as object).sort()).toEqual(['c', 'e', 'h']);
    expect(payload).not.toContain(sha256Hex(TOKEN));
    expect(payload).not.toContain(TOKEN);
    const res = await t.app.http.inject({ url: '/v1/incidents', headers: { cookie } });
    expect(res.statusCode).toBe(200);
  });

  it('refuses cross-origin writes, even with a valid bearer token', async () => {
    const res = await t.app.http.inject({
      method: 'POST',
      url: '/v1/dlq/redrive',
      headers: { authorization: `Bearer ${TOKEN}`, origin: 'https://evil.example' },
      payload: {},
    });
    expect(res.statusCode).toBe(403);
    expect(res.json<{ message: string }>().message).toContain('cross-origin');
  });

  it('streams an incident event when an alert opens one', async () => {
    const controller = new AbortController();
    const res = await fetch(`${url}/v1/stream`, {
      headers: { authorization: `Bearer ${TOKEN}` },
      signal: controller.signal,
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    const read = async (until: RegExp) => {
      while (!until.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    };
    await read(/event: ready/);
    const posted = await fetch(`${url}/v1/webhooks/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(webhook([{ labels: { alertname: 'StreamMe', service: 'checkout' } }])),
    });
    expect(posted.status).toBe(200);
    await read(/event: incident\ndata: \{"id":"inc_[^"]+"\}/);
    controller.abort();
  });

  it('answers analytics over the API and the CLI with the same numbers', async () => {
    const api = await t.app.http.inject({
      url: '/v1/analytics',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(api.statusCode).toBe(200);
    const report = api.json<{ overall: { incidents: number }; frequency: { byAlert: { key: string }[] } }>();
    expect(report.overall.incidents).toBeGreaterThanOrEqual(1);
    const cli = await runCli(['--url', url, '--token', TOKEN, 'analytics', '-o', 'json']);
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ overall: report.overall, frequency: report.frequency });
    const table = await runCli(['--url', url, '--token', TOKEN, 'analytics', '--from', '2d']);
    expect(table.stdout).toContain('StreamMe');
    const bad = await t.app.http.inject({
      url: '/v1/analytics?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ message: string }>().message).toContain('query.to');
  });
});

describe('analytics report', () => {
  const at = (h: number, m = 0) => new Date(Date.UTC(2026, 10, 20, h, m)).toISOString();
  const incident = (id: string, service: string, opened: number, extra: Partial<AnalyticsIncident>) => ({
    id,
    service,
    alertname: `${service}Down`,
    openedAt: at(opened),
    respondedAt: null,
    resolvedAt: null,
    escalatedAt: null,
    ...extra,
  });
  const incidents: AnalyticsIncident[] = [
    // checkout, 10:00: a runbook took it after 2 min and fixed it at 10:10.
    incident('a', 'checkout', 10, { respondedAt: at(10, 2), resolvedAt: at(10, 10) }),
    // checkout, 10:00: a human acked after 6 min and resolved at 10:30.
    incident('b', 'checkout', 10, { respondedAt: at(10, 6), resolvedAt: at(10, 30) }),
    // payments, 12:00: the runbook failed and paged a human at 12:20; still unresolved.
    incident('c', 'payments', 12, { respondedAt: at(12, 1), escalatedAt: at(12, 20) }),
    // payments, 13:00: nothing yet.
    incident('d', 'payments', 13, {}),
  ];
  const report = buildReport(
    { from: at(10), to: at(14) },
    incidents,
    [
      { incidentId: 'a', action: 'k8s.restart', outcome: 'acted', at: at(10, 4) },
      { incidentId: 'c', action: 'k8s.restart', outcome: 'acted', at: at(12, 5) },
      { incidentId: 'c', action: 'k8s.scale', outcome: 'shadow', at: at(12, 6) },
    ],
    [
      { incidentId: 'a', runbook: 'high-error-rate', status: 'SUCCEEDED', startedAt: at(10, 2) },
      { incidentId: 'c', runbook: 'high-error-rate', status: 'FAILED', startedAt: at(12, 1) },
      { incidentId: 'zzz', runbook: 'other', status: 'SUCCEEDED', startedAt: at(11) },
    ],
  );

  it('computes MTTR and MTTA overall and per hour bucket', () => {
    expect(report.range.bucket).toBe('hour');
    expect(report.trends.buckets).toEqual([at(10), at(11), at(12), at(13)]);
    expect(report.overall).toEqual({ incidents: 4, resolved: 2, mttrSeconds: 1200, mttaSeconds: 180 });
    expect(report.trends.overall.count).toEqual([2, 0, 1, 1]);
    expect(report.trends.overall.mttrSeconds).toEqual([1200, null, null, null]);
    expect(report.trends.overall.mttaSeconds).toEqual([240, null, 60, null]);
    expect(Object.keys(report.trends.services)).toEqual(['checkout', 'payments']);
    expect(report.trends.services['payments']!.count).toEqual([0, 0, 1, 1]);
  });

  it('counts frequency, effectiveness and who ended incidents', () => {
    expect(report.frequency.byService).toEqual([
      { key: 'checkout', count: 2 },
      { key: 'payments', count: 2 },
    ]);
    // k8s.restart acted on a (fixed 6 min later) and c (escalated); the shadow k8s.scale is not a remediation.
    expect(report.effectiveness.byAction).toEqual([
      { key: 'k8s.restart', runs: 2, succeeded: 1, successRate: 0.5, meanTimeToResolveSeconds: 360 },
    ]);
    expect(report.effectiveness.byRunbook).toEqual([
      { key: 'high-error-rate', runs: 2, succeeded: 1, successRate: 0.5, meanTimeToResolveSeconds: 480 },
    ]);
    expect(report.share).toEqual({ automated: 1, escalated: 1, manual: 1, open: 1, total: 4 });
  });

  it('counts an incident automated only when a mutating action acted, not for a notify-only runbook', () => {
    const resolved = [
      incident('slack-only', 'checkout', 10, { resolvedAt: at(10, 5) }),
      incident('fixed', 'checkout', 11, { resolvedAt: at(11, 5) }),
      // Recorded before action records said whether they mutate: told by the action's group.
      incident('old-slack-only', 'checkout', 12, { resolvedAt: at(12, 5) }),
      incident('old-fixed', 'checkout', 13, { resolvedAt: at(13, 5) }),
    ];
    const share = buildReport(
      { from: at(10), to: at(14) },
      resolved,
      [
        {
          incidentId: 'slack-only',
          action: 'notify.slack',
          outcome: 'acted',
          mutating: false,
          at: at(10, 1),
        },
        { incidentId: 'fixed', action: 'k8s.scale', outcome: 'acted', mutating: true, at: at(11, 1) },
        { incidentId: 'old-slack-only', action: 'notify.slack', outcome: 'acted', at: at(12, 1) },
        { incidentId: 'old-fixed', action: 'config.set', outcome: 'acted', at: at(13, 1) },
      ],
      [
        { incidentId: 'slack-only', runbook: 'unknown-alert', status: 'SUCCEEDED', startedAt: at(10) },
        { incidentId: 'fixed', runbook: 'high-latency', status: 'SUCCEEDED', startedAt: at(11) },
      ],
    ).share;
    expect(share).toEqual({ automated: 2, escalated: 0, manual: 2, open: 0, total: 4 });
  });
});
