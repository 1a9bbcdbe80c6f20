import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApp } from '../../src/app.ts';
import { parseConfig } from '../../src/config/load.ts';
import { assertExposureIsAuthenticated, sha256Hex } from '../../src/http/auth.ts';
import { makeTestApp, tempDir, webhook, type TestApp } from '../support/app.ts';
import { eventually } from '../support/http-receiver.ts';
import type { ConfigInput } from '../../src/config/schema.ts';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('operations endpoints', () => {
  it('serves health, readiness, metrics and the OpenAPI document', async () => {
    t = await makeTestApp();
    expect((await t.app.http.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await t.app.http.inject({ url: '/readyz' })).json()).toEqual({ status: 'ready' });
    await t.app.http.inject({
      method: 'POST',
      url: '/v1/webhooks/alertmanager',
      payload: webhook([{ labels: { alertname: 'M' } }]),
    });
    await t.app.settle();
    const metrics = (await t.app.http.inject({ url: '/metrics' })).body;
    for (const name of [
      'rebound_alerts_received_total{status="firing"} 1',
      'rebound_alerts_duplicate_total',
      'rebound_ingest_latency_seconds_bucket',
      'rebound_store_commit_seconds_bucket',
      'rebound_open_incidents 1',
      'rebound_bus_delivered_total{target="alerts-to-incidents/incidents"} 1',
    ]) {
      expect(metrics).toContain(name);
    }
    const openapi = (await t.app.http.inject({ url: '/v1/openapi.json' })).json();
    expect(openapi.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining([
        '/v1/webhooks/alertmanager',
        '/v1/incidents/{id}/acknowledge',
        '/v1/dlq/redrive',
      ]),
    );
    const unknown = await t.app.http.inject({ url: '/v1/nope' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('NOT_FOUND');
  });
});

/** API tokens of each role, for the tests of authentication and roles. */
const tokens = {
  viewer: 'viewer-token-0123456789',
  operator: 'operator-token-0123456789',
  admin: 'admin-token-0123456789',
};

describe('API authentication and roles', () => {
  it('is open on loopback without tokens and says so', async () => {
    t = await makeTestApp();
    expect((await t.app.http.inject({ url: '/v1/info' })).json().auth).toBe('open');
    expect((await t.app.http.inject({ url: '/v1/incidents' })).statusCode).toBe(200);
  });

  it('answers a POST without a body with 400 naming the first missing field, never 500', async () => {
    t = await makeTestApp();
    for (const url of [
      '/v1/events',
      '/v1/replays',
      '/v1/workflows/validate',
      '/v1/tasks/success',
      '/v1/tasks/failure',
      '/v1/tasks/heartbeat',
      '/v1/approvals/apr_x/decision',
      '/v1/session',
    ]) {
      for (const headers of [{}, { 'content-type': 'application/json' }]) {
        const res = await t.app.http.inject({ method: 'POST', url, headers });
        expect(res.statusCode, url).toBe(400);
        expect(res.json().message, url).toMatch(/^body\.\w+: /);
      }
    }
  });

  it('refuses a __proto__ key anywhere in a JSON body, naming where, instead of dropping it', async () => {
    t = await makeTestApp();
    const post = (url: string, payload: string) =>
      t!.app.http.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload });
    const pause = await post('/v1/automation/pause', '{"match":{"__proto__":"x"},"reason":"scoped"}');
    expect(pause.statusCode).toBe(400);
    expect(pause.json().message).toBe('body.match.__proto__: the key "__proto__" is not accepted');
    const alert = JSON.stringify(webhook([{ labels: { alertname: 'A' } }])).replace(
      '"alertname":"A"',
      '"__proto__":"5","alertname":"A"',
    );
    const posted = await post('/v1/webhooks/alertmanager', alert);
    expect(posted.statusCode).toBe(400);
    expect(posted.json().message).toMatch(/^body\.alerts\[0\]\.labels\.__proto__: /);
    // Spelled with a \u escape, it is the same key; the first one in the body is named.
    const escaped = await post(
      '/v1/automation/pause',
      '{"a":{"b":1},"match":{"\\u005f_proto__":"x"},"z":{"__proto__":1}}',
    );
    expect(escaped.json().message).toBe('body.match.__proto__: the key "__proto__" is not accepted');
    // The word itself, as a value or inside a string, is fine.
    expect((await post('/v1/automation/pause', '{"reason":"\\"__proto__\\" as text"}')).statusCode).toBe(201);
  });

  it("resume: refuses query parameters (the body's defaults would apply), and concurrent calls report each pause once", async () => {
    t = await makeTestApp();
    await t.app.http.inject({ method: 'POST', url: '/v1/automation/pause', payload: { reason: 'a' } });
    const resume = await t.app.http.inject({ method: 'POST', url: '/v1/automation/resume?pauseId=p-1' });
    expect(resume.statusCode).toBe(400);
    expect(resume.json()).toMatchObject({
      code: 'BAD_REQUEST',
      path: 'pauseId',
      message:
        'query.pauseId: POST /v1/automation/resume takes no query parameters; send them in the JSON body',
    });
    expect((await t.app.http.inject({ url: '/v1/automation' })).json().pauses).toHaveLength(1);
    await t.app.http.inject({ method: 'POST', url: '/v1/automation/pause', payload: { reason: 'b' } });
    // Resumed four times at once: each pause is reported lifted by the one call that lifted it.
    const answers = await Promise.all(
      [1, 2, 3, 4].map(() => t!.app.http.inject({ method: 'POST', url: '/v1/automation/resume' })),
    );
    const lifted = answers.flatMap((a) => (a.json().removedPauses as { id: string }[]).map((p) => p.id));
    expect(lifted).toHaveLength(2);
    expect(new Set(lifted).size).toBe(2);
  });

  it('reaches an execution whose id is long (an 80-character runbook name and execution name)', async () => {
    t = await makeTestApp();
    const workflow = 'w'.repeat(80);
    t.app.workflows.register(workflow, { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } });
    const started = await t.app.http.inject({
      method: 'POST',
      url: '/v1/executions',
      payload: { workflow, name: 'n'.repeat(80) },
    });
    expect(started.statusCode).toBe(201);
    const id = encodeURIComponent(started.json().executionId as string);
    for (const path of [`/v1/executions/${id}`, `/v1/executions/${id}/history`])
      expect((await t.app.http.inject({ url: path })).statusCode).toBe(200);
  });

  it('open on loopback, answers only requests addressed to loopback (no DNS rebinding)', async () => {
    t = await makeTestApp();
    const as = (host: string) => ({ host, origin: `http://${host}` });
    const pause = await t.app.http.inject({
      method: 'POST',
      url: '/v1/automation/pause',
      headers: as('evil.example:8080'),
      payload: { reason: 'rebinding' },
    });
    expect(pause.statusCode).toBe(403);
    expect(pause.json().message).toMatch(/^Host "evil\.example:8080" refused: .*DNS rebinding.*server\.auth/);
    const alert = await t.app.http.inject({
      method: 'POST',
      url: '/v1/webhooks/alertmanager',
      headers: { host: 'evil.example' },
      payload: webhook([{ labels: { alertname: 'Rebound' } }]),
    });
    expect(alert.statusCode).toBe(403);
    for (const host of [
      'localhost:8080',
      '127.0.0.1:8080',
      '127.1.2.3',
      '[::1]:8080',
      'LOCALHOST',
      'localhost.',
      'app.localhost:1',
    ])
      expect((await t.app.http.inject({ url: '/v1/incidents', headers: { host } })).statusCode, host).toBe(
        200,
      );
    expect(
      (await t.app.http.inject({ url: '/v1/incidents', headers: { host: '10.0.0.1' } })).statusCode,
    ).toBe(403);
    await t.close();

    // With every entrance behind a token, the host name a client uses is its own business (a reverse proxy).
    t = await makeTestApp({
      server: {
        auth: {
          apiTokens: [{ name: 'v', role: 'viewer', token: tokens.viewer }],
          webhookTokens: [tokens.admin],
        },
      },
    });
    const proxied = await t.app.http.inject({
      url: '/v1/incidents',
      headers: { host: 'rebound.example.com', authorization: `Bearer ${tokens.viewer}` },
    });
    expect(proxied.statusCode).toBe(200);
  });

  it('enforces roles when tokens are configured (stored as SHA-256 or given as tokens)', async () => {
    t = await makeTestApp({
      server: {
        auth: {
          apiTokens: [
            { name: 'v', role: 'viewer', token: tokens.viewer },
            { name: 'o', role: 'operator', sha256: sha256Hex(tokens.operator) },
            { name: 'a', role: 'admin', token: tokens.admin },
          ],
        },
      },
    });
    const as = (token: string | undefined, method: 'GET' | 'POST', url: string) =>
      t!.app.http.inject({
        method,
        url,
        headers: token ? { authorization: `Bearer ${token}` } : {},
        ...(method === 'POST' ? { payload: {} } : {}),
      });
    expect((await t.app.http.inject({ url: '/v1/info' })).json().auth).toBe('token');
    expect((await as(undefined, 'GET', '/v1/incidents')).statusCode).toBe(401);
    expect((await as('wrong-token-0123456789', 'GET', '/v1/incidents')).statusCode).toBe(401);
    expect((await as(tokens.viewer, 'GET', '/v1/incidents')).statusCode).toBe(200);
    const forbidden = await as(tokens.viewer, 'POST', '/v1/incidents/x/acknowledge');
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().message).toMatch(/viewer may not do this; it needs operator/);
    expect((await as(tokens.operator, 'POST', '/v1/incidents/x/acknowledge')).statusCode).toBe(404);
    expect((await as(tokens.operator, 'POST', '/v1/admin/reload')).statusCode).toBe(403);
    expect((await as(tokens.admin, 'POST', '/v1/admin/reload')).statusCode).toBe(200);
    // Reload takes no options: one it would ignore is refused, not silently dropped.
    const withOptions = await t.app.http.inject({
      method: 'POST',
      url: '/v1/admin/reload',
      headers: { authorization: `Bearer ${tokens.admin}` },
      payload: { rules: 'only' },
    });
    expect(withOptions.statusCode).toBe(400);
    expect(withOptions.json()).toMatchObject({
      message: 'body.rules: Unrecognized key: "rules"',
      path: 'rules',
    });
    expect((await as(undefined, 'GET', '/healthz')).statusCode).toBe(200);
    // The metrics name rules, targets and runbooks: a viewer token, like the API.
    const scrape = await as(undefined, 'GET', '/metrics');
    expect(scrape.statusCode).toBe(401);
    expect(scrape.headers['www-authenticate']).toMatch(/^Bearer/);
    const scraped = await as(tokens.viewer, 'GET', '/metrics');
    expect(scraped.statusCode).toBe(200);
    expect(scraped.body).toContain('rebound_');
  });
});

describe('executions and roles', () => {
  it('lets only admins run a definition of their own, and hides task tokens from viewers', async () => {
    t = await makeTestApp({
      server: {
        auth: {
          apiTokens: [
            { name: 'v', role: 'viewer', token: tokens.viewer },
            { name: 'o', role: 'operator', token: tokens.operator },
            { name: 'a', role: 'admin', token: tokens.admin },
          ],
        },
      },
    });
    const call = (token: string, method: 'GET' | 'POST', url: string, payload?: object) =>
      t!.app.http.inject({ method, url, headers: { authorization: `Bearer ${token}` }, payload });
    // A callback task: its TaskScheduled event carries the token in its parameters.
    t.app.workflows.register('asks', {
      StartAt: 'Ask',
      States: {
        Ask: {
          Type: 'Task',
          Resource: 'rebound:incident.note.waitForTaskToken',
          Parameters: { incidentId: 'none', description: 'x', 'token.$': '$$.Task.Token' },
          End: true,
        },
      },
    });
    const inline = { definition: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } } };
    const refused = await call(tokens.operator, 'POST', '/v1/executions', inline);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().message).toMatch(/operator may not do this; it needs admin/);
    expect((await call(tokens.admin, 'POST', '/v1/executions', inline)).statusCode).toBe(201);
    const started = await call(tokens.operator, 'POST', '/v1/executions', { workflow: 'asks' });
    expect(started.statusCode).toBe(201);
    const id = encodeURIComponent(started.json().executionId as string);
    const history = async (token: string) => {
      const res = await call(token, 'GET', `/v1/executions/${id}/history`);
      expect(res.statusCode).toBe(200);
      return res.json().events as { type: string; taskScheduledEventDetails?: { parameters: string } }[];
    };
    await eventually(async () => (await history(tokens.admin)).some((e) => e.type === 'TaskScheduled'));
    const scheduled = (await history(tokens.operator)).find((e) => e.type === 'TaskScheduled')!;
    const { token } = JSON.parse(scheduled.taskScheduledEventDetails!.parameters) as { token: string };
    expect(token).toMatch(/^[\w-]{40,}$/);
    const seen = JSON.stringify(await history(tokens.viewer));
    expect(seen).not.toContain(token);
    expect(seen).toContain('[task token hidden]');
  });
});

describe('HTTP semantics', () => {
  it('answers a known path asked with the wrong method 405 with Allow, an unknown one 404', async () => {
    t = await makeTestApp();
    const wrong = await t.app.http.inject({ method: 'GET', url: '/v1/webhooks/alertmanager' });
    expect(wrong.statusCode).toBe(405);
    expect(wrong.headers['allow']).toBe('POST');
    expect(wrong.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
    const del = await t.app.http.inject({ method: 'DELETE', url: '/v1/incidents/some-id' });
    expect(del.statusCode).toBe(405);
    expect(del.headers['allow']).toBe('GET, HEAD');
    expect((await t.app.http.inject({ method: 'GET', url: '/v1/nothing-here' })).statusCode).toBe(404);
  });

  it('answers a body of a type the route does not take 415 naming the types it takes', async () => {
    t = await makeTestApp();
    const post = (url: string, headers: Record<string, string>) =>
      t!.app.http.inject({ method: 'POST', url, headers, payload: '{"a":1}' });
    // Slack posts forms: the JSON just sent is not what to send instead.
    const slack = await post('/v1/integrations/slack/interactions', { 'content-type': 'application/json' });
    expect(slack.statusCode).toBe(415);
    expect(slack.json()).toEqual({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message:
        'Content-Type "application/json" is not accepted: POST /v1/integrations/slack/interactions takes ' +
        'application/x-www-form-urlencoded; send Content-Type: application/x-www-form-urlencoded',
    });
    const text = await post('/v1/incidents/inc-1/acknowledge', { 'content-type': 'text/plain' });
    expect(text.statusCode).toBe(415);
    expect(text.json().message).toBe(
      'Content-Type "text/plain" is not accepted: POST /v1/incidents/:id/acknowledge takes application/json ' +
        'or text/json; send Content-Type: application/json',
    );
    const form = await post('/v1/webhooks/alertmanager', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(form.statusCode).toBe(415);
    expect(form.json().message).toMatch(
      /POST \/v1\/webhooks\/alertmanager takes application\/json or text\/json;/,
    );
    const untyped = await post('/v1/events', {});
    expect(untyped.statusCode).toBe(415);
    expect(untyped.json().message).toMatch(
      /^the body has no Content-Type: POST \/v1\/events takes application\/json/,
    );
  });

  it('names the scheme on 401, refuses compressed bodies, and keeps its error shape for framework errors', async () => {
    t = await makeTestApp({
      server: { auth: { apiTokens: [{ name: 'a', role: 'admin', token: 'admin-token-0123456789' }] } },
    });
    const unauthorized = await t.app.http.inject({ url: '/v1/incidents' });
    expect(unauthorized.statusCode).toBe(401);
    expect(unauthorized.headers['www-authenticate']).toBe('Bearer realm="rebound"');
    const encoded = (encoding: string, alertname: string) =>
      t!.app.http.inject({
        method: 'POST',
        url: '/v1/webhooks/alertmanager',
        headers: { 'content-type': 'application/json', 'content-encoding': encoding },
        payload: JSON.stringify(webhook([{ labels: { alertname } }])),
      });
    const gzip = await encoded('gzip', 'Zipped');
    expect(gzip.statusCode).toBe(415);
    expect(gzip.json()).toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: expect.stringMatching(/gzip/),
    });
    expect((await encoded('identity', 'Plain')).statusCode).toBe(200);
    const badUrl = await t.app.http.inject({ url: '/v1/incidents/%ZZ' });
    expect(badUrl.statusCode).toBe(400);
    expect(badUrl.json()).toMatchObject({ code: 'BAD_REQUEST' });
    // Refused by Node's HTTP parser, before Fastify: still the API's shape.
    const { port } = t.app.http.server.address() as { port: number };
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () =>
        socket.write('POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'),
      );
      let text = '';
      socket.on('data', (d: Buffer) => (text += d.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toEqual({
      code: 'BAD_REQUEST',
      message: 'malformed HTTP request',
    });
  });
});

describe('precise answers to bad input', () => {
  it('names repeated parameters, null bodies, empty ranges, bad ids and missing fields', async () => {
    t = await makeTestApp();
    const get = async (url: string) => {
      const res = await t!.app.http.inject({ url });
      return { status: res.statusCode, message: res.json<{ message: string }>().message };
    };
    expect(await get('/v1/incidents?limit=1&limit=2')).toEqual({
      status: 400,
      message: 'query.limit: given more than once; give it once',
    });
    for (const limit of ['', 'abc', '0x10', '1e3', '0', '1001', '2.5'])
      expect(await get(`/v1/incidents?limit=${limit}`), limit).toEqual({
        status: 400,
        message: 'query.limit: a whole number from 1 to 1000',
      });
    expect(await get('/v1/incidents?status=open,,resolved')).toMatchObject({ status: 400 });
    for (const path of ['/v1/events', '/v1/incidents'])
      expect(await get(`${path}?from=2026-01-01T00:00:00Z&to=2025-01-01T00:00:00Z`)).toEqual({
        status: 400,
        message: 'query.to: must be after from',
      });
    expect(await get('/v1/dlq/0x1')).toEqual({
      status: 400,
      message: 'params.id: a dead letter id is a positive integer, not "0x1"',
    });
    expect((await get('/v1/dlq/1')).status).toBe(404);
    expect(await get('/v1/incidents/')).toEqual({
      status: 404,
      message: 'no route GET /v1/incidents/: a path segment is empty; see /v1/openapi.json',
    });
    // A dashboard page with a trailing slash is the page's own business (its router falls back).
    const page = await t.app.http.inject({ url: '/incidents/' });
    expect(page.body).not.toContain('a path segment is empty');
    const post = async (url: string, payload: string) => {
      const res = await t!.app.http.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json' },
        payload,
      });
      return { status: res.statusCode, message: res.json<{ message: string }>().message };
    };
    expect(await post('/v1/events', 'null')).toEqual({
      status: 400,
      message: 'body: expected a JSON object, got null',
    });
    expect(await post('/v1/workflows/validate', '{}')).toEqual({
      status: 400,
      message: 'body.definition: required: the state machine definition to check',
    });
    expect(await post('/v1/executions/x/redrive', '{"force":true}')).toMatchObject({ status: 400 });
    expect(await post('/v1/automation/pause', '{"match":{"1bad":"x"}}')).toEqual({
      status: 400,
      message: 'body.match.1bad: the key must be a label name such as namespace or alertname',
    });
  });
});

describe('exposure beyond loopback', () => {
  it("refuses the example configuration's placeholder tokens, naming each", () => {
    const exposed = (webhookToken: string, apiToken: string) =>
      parseConfig({
        server: {
          listen: '0.0.0.0:8080',
          auth: {
            webhookTokens: [webhookToken],
            apiTokens: [{ name: 'oncall', role: 'operator', token: apiToken }],
          },
        },
      }).server;
    expect(() =>
      assertExposureIsAuthenticated(exposed('change-me-alertmanager-token', 'change-me-operator-token')),
    ).toThrow(
      /placeholder secrets at server\.auth\.webhookTokens\[0\], server\.auth\.apiTokens\[0\]\.token; set the environment variables/,
    );
    expect(() =>
      assertExposureIsAuthenticated(exposed('a-secret-of-our-own-123', 'Change-Me-operator-token')),
    ).toThrow(/placeholder secrets at server\.auth\.apiTokens\[0\]\.token;/);
    const ours = exposed('a-secret-of-our-own-123', 'another-secret-of-ours');
    expect(() => assertExposureIsAuthenticated(ours)).not.toThrow();
    // The example's Slack signing secret fallback, and the webhook HMAC secret, are checked too.
    const slack = { path: 'slack.signingSecret', value: 'replace-with-the-apps-signing-secret' };
    expect(() => assertExposureIsAuthenticated(ours, [slack])).toThrow(
      /placeholder secrets at slack\.signingSecret;/,
    );
    const hmac = {
      ...ours,
      auth: { ...ours.auth, hmac: { secret: 'change-me-hmac-secret', toleranceSeconds: 300 } },
    };
    expect(() => assertExposureIsAuthenticated(hmac)).toThrow(
      /placeholder secrets at server\.auth\.hmac\.secret;/,
    );
    // On loopback the example works as it is.
    const local = parseConfig({
      server: { auth: { webhookTokens: ['change-me-alertmanager-token'] } },
    }).server;
    expect(() => assertExposureIsAuthenticated(local)).not.toThrow();
  });
});

describe('reloading the configuration', () => {
  const tokens = { viewer: 'viewer-token-0123456789', admin: 'admin-token-0123456789' };
  const webhookTokens = { old: 'webhook-token-old-0123456789', new: 'webhook-token-new-0123456789' };
  let dir = tempDir();
  /** Listening beyond loopback, where authentication is required. */
  const input = (auth: NonNullable<NonNullable<ConfigInput['server']>['auth']>) =>
    parseConfig({ logging: { level: 'silent' }, dataDir: dir.path, server: { listen: '0.0.0.0:0', auth } });
  let app: ReturnType<typeof createApp> | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
    dir.remove();
    dir = tempDir();
  });

  it('takes new API and webhook tokens: a removed token and its sessions are refused at once', async () => {
    const before = input({
      apiTokens: [
        { name: 'v', role: 'viewer', token: tokens.viewer },
        { name: 'a', role: 'admin', token: tokens.admin },
      ],
      webhookTokens: [webhookTokens.old],
    });
    let next = before;
    app = createApp({ config: before, reloadConfig: async () => next });
    await app.start();
    const http = app.http;
    const signedIn = await http.inject({
      method: 'POST',
      url: '/v1/session',
      payload: { token: tokens.viewer },
    });
    const cookie = String(signedIn.headers['set-cookie']).split(';')[0]!;
    const get = (headers: Record<string, string>) => http.inject({ url: '/v1/incidents', headers });
    const post = (token: string) =>
      http.inject({
        method: 'POST',
        url: '/v1/webhooks/alertmanager',
        headers: { authorization: `Bearer ${token}` },
        payload: webhook([{ labels: { alertname: 'Reloaded', namespace: 'shop' } }]),
      });
    expect((await get({ cookie })).statusCode).toBe(200);
    expect((await post(webhookTokens.old)).statusCode).toBe(200);

    next = input({
      apiTokens: [{ name: 'a', role: 'admin', token: tokens.admin }],
      webhookTokens: [webhookTokens.new],
    });
    const admin = { authorization: `Bearer ${tokens.admin}` };
    const reloaded = await http.inject({ method: 'POST', url: '/v1/admin/reload', headers: admin });
    expect(reloaded.json()).toEqual({ rules: expect.any(Number), restartNeeded: [] });
    expect((await get({ authorization: `Bearer ${tokens.viewer}` })).statusCode).toBe(401);
    expect((await get({ cookie })).statusCode).toBe(401);
    expect((await get(admin)).statusCode).toBe(200);
    expect((await post(webhookTokens.old)).statusCode).toBe(401);
    expect((await post(webhookTokens.new)).statusCode).toBe(200);
  });

  it('serves /metrics without a token only while server.auth.publicMetrics says so', async () => {
    const auth = {
      apiTokens: [{ name: 'a', role: 'admin' as const, token: tokens.admin }],
      webhookTokens: [webhookTokens.old],
    };
    let next = input({ ...auth, publicMetrics: true });
    app = createApp({ config: next, reloadConfig: async () => next });
    await app.start();
    const scrape = () => app!.http.inject({ url: '/metrics' });
    expect((await scrape()).statusCode).toBe(200);
    // Nothing else opens with it.
    expect((await app.http.inject({ url: '/v1/incidents' })).statusCode).toBe(401);
    next = input(auth);
    const admin = { authorization: `Bearer ${tokens.admin}` };
    const reloaded = await app.http.inject({ method: 'POST', url: '/v1/admin/reload', headers: admin });
    expect(reloaded.json().restartNeeded).toEqual([]);
    expect((await scrape()).statusCode).toBe(401);
    expect((await app.http.inject({ url: '/metrics', headers: admin })).statusCode).toBe(200);
  });

  it('refuses a configuration that would leave an exposed server without API tokens, and keeps the old ones', async () => {
    const before = input({
      apiTokens: [{ name: 'a', role: 'admin', token: tokens.admin }],
      webhookTokens: [webhookTokens.old],
    });
    let next = before;
    app = createApp({ config: before, reloadConfig: async () => next });
    await app.start();
    const admin = { authorization: `Bearer ${tokens.admin}` };
    // Settings read only at start are named, not silently ignored.
    next = {
      ...before,
      server: { ...before.server, bodyLimitBytes: 1024 },
      guard: { ...before.guard, shadow: { ...before.guard.shadow, global: true } },
    };
    const partly = await app.http.inject({ method: 'POST', url: '/v1/admin/reload', headers: admin });
    expect(partly.json()).toEqual({
      rules: expect.any(Number),
      restartNeeded: ['server.bodyLimitBytes', 'guard'],
    });
    next = input({ apiTokens: [], webhookTokens: [webhookTokens.old] });
    const refused = await app.http.inject({ method: 'POST', url: '/v1/admin/reload', headers: admin });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().message).toMatch(/without authentication; configure server\.auth\.apiTokens/);
    expect((await app.http.inject({ url: '/v1/incidents' })).statusCode).toBe(401);
    expect((await app.http.inject({ url: '/v1/incidents', headers: admin })).statusCode).toBe(200);
  });

  it('on loopback too, a reload that would drop every token is refused: opening a server takes a restart', async () => {
    const loopback = (auth: NonNullable<NonNullable<ConfigInput['server']>['auth']>) =>
      parseConfig({
        logging: { level: 'silent' },
        dataDir: dir.path,
        server: { listen: '127.0.0.1:0', auth },
      });
    const before = loopback({
      apiTokens: [{ name: 'a', role: 'admin', token: tokens.admin }],
      webhookTokens: [webhookTokens.old],
    });
    let next = loopback({});
    app = createApp({ config: before, reloadConfig: async () => next });
    await app.start();
    const admin = { authorization: `Bearer ${tokens.admin}` };
    const refused = await app.http.inject({ method: 'POST', url: '/v1/admin/reload', headers: admin });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().message).toBe(
      'the reloaded configuration has no server.auth.apiTokens and no server.auth.webhookTokens (or ' +
        'server.auth.hmac), which would let every local user in without a token; to run open, restart ' +
        'Rebound with it (the tokens in force are kept)',
    );
    expect((await app.http.inject({ url: '/v1/incidents' })).statusCode).toBe(401);
    next = loopback({
      apiTokens: [{ name: 'a', role: 'admin', token: tokens.admin }],
      hmac: { secret: 'x'.repeat(32) },
    });
    const swapped = await app.http.inject({ method: 'POST', url: '/v1/admin/reload', headers: admin });
    expect(swapped.statusCode).toBe(200);
  });
});

describe('callback task token secret', () => {
  it('is generated once per data directory, owner-only, and kept across restarts', async () => {
    const { statSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    t = await makeTestApp();
    const file = join(t.dir, 'task-token.secret');
    const secret = readFileSync(file, 'utf8').trim();
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await t.app.stop();
    t = await makeTestApp({}, undefined, t.dir);
    expect(readFileSync(file, 'utf8').trim()).toBe(secret);
  });
});

describe('workflow definitions', () => {
  it('are checked against the actions this server has, when validated and when started inline', async () => {
    t = await makeTestApp();
    const definition = {
      StartAt: 'A',
      States: { A: { Type: 'Task', Resource: 'rebound:nope.nope', End: true } },
    };
    const issue = {
      path: 'States.A.Resource',
      message: expect.stringContaining("'rebound:nope.nope' is not a known action (known: "),
    };
    const validated = await t.app.http.inject({
      method: 'POST',
      url: '/v1/workflows/validate',
      payload: { definition },
    });
    expect(validated.json()).toEqual({ valid: false, issues: [issue] });
    const started = await t.app.http.inject({
      method: 'POST',
      url: '/v1/executions',
      payload: { definition },
    });
    expect(started.statusCode).toBe(400);
    expect(started.json()).toMatchObject({ code: 'INVALID_DEFINITION' });
    expect(started.json().message).toContain('is not a known action');

    // An action registered after start (an embedder's own) is known from then on.
    t.app.actions.register({
      name: 'nope.nope',
      description: 'registered late',
      mutating: false,
      params: z.unknown(),
      run: async () => ({ output: null, writes: [] }),
    } as never);
    const again = await t.app.http.inject({
      method: 'POST',
      url: '/v1/workflows/validate',
      payload: { definition },
    });
    expect(again.json()).toEqual({ valid: true, issues: [] });
  });
});

describe('input boundaries', () => {
  it('answers 400, not 500, to input that nests too deeply to be stored', async () => {
    t = await makeTestApp();
    const definition = { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } };
    const res = await t.app.http.inject({
      method: 'POST',
      url: '/v1/executions',
      headers: { 'content-type': 'application/json' },
      payload: `{"definition":${JSON.stringify(definition)},"input":{"a":${'['.repeat(20_000)}${']'.repeat(20_000)}}}`,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'INVALID_PAYLOAD',
      message: expect.stringMatching(/nests too deeply/),
    });
    expect((await t.app.http.inject({ url: '/v1/executions' })).json().items).toHaveLength(0);
  });

  it('answers a body over the limit 413 and does not log it as a stack overflow (both are RangeErrors)', async () => {
    const lines: string[] = [];
    const dir = tempDir();
    const app = createApp({
      config: parseConfig({
        dataDir: dir.path,
        server: { listen: '127.0.0.1:0', bodyLimitBytes: 1024 },
        logging: { level: 'warn' },
      }),
      logDestination: { write: (line: string) => void lines.push(line) },
    });
    await app.start();
    try {
      const res = await app.http.inject({
        method: 'POST',
        url: '/v1/webhooks/alertmanager',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ padding: 'x'.repeat(4096) }),
      });
      expect(res.statusCode).toBe(413);
      expect(res.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
      expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).not.toContain(
        'stack overflow on a request',
      );
    } finally {
      await app.stop();
      dir.remove();
    }
  });
});
