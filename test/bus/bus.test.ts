import { createHmac } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { decideRetry } from '../../src/bus/retry.ts';
import { executionName } from '../../src/bus/targets/workflow.ts';
import { selectDue } from '../../src/bus/worker.ts';
import type { Delivery } from '../../src/bus/port.ts';
import { fixture, makeTestApp, webhook, type TestApp } from '../support/app.ts';
import { eventually, HttpReceiver } from '../support/http-receiver.ts';

let t: TestApp | undefined;
const receivers: HttpReceiver[] = [];
afterEach(async () => {
  await t?.close();
  t = undefined;
  await Promise.all(receivers.splice(0).map((r) => r.stop()));
});

async function receiver(): Promise<HttpReceiver> {
  const r = await new HttpReceiver().start();
  receivers.push(r);
  return r;
}

const fastRetry = { maximumEventAgeSeconds: 60, maximumRetryAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 };
const SECRET = 'webhook-secret-0123456789';

function hookRule(url: string, extra: Record<string, unknown> = {}) {
  return {
    name: 'hook',
    pattern: { source: ['rebound.alertmanager'], detail: { status: ['firing'] } },
    targets: [{ kind: 'webhook' as const, id: 'h', url, secret: SECRET, retry: fastRetry, ...extra }],
  };
}

/** A counter's value in a `/metrics` text: the series as exposed, name and labels (0 when absent). */
function counter(metrics: string, series: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

async function post(payload: unknown) {
  const res = await t!.app.http.inject({
    method: 'POST',
    url: '/v1/webhooks/alertmanager',
    payload: payload as object,
  });
  expect(res.statusCode).toBe(200);
}

describe('bus delivery', () => {
  it('delivers matching events to a webhook target, HMAC-signed, with the input transformed', async () => {
    const r = await receiver();
    t = await makeTestApp({
      bus: {
        rules: [
          hookRule(r.url, {
            input: {
              InputTransformer: {
                InputPathsMap: { alert: '$.detail.labels.alertname', id: '$.id' },
                InputTemplate: '{"alert": <alert>, "event": <id>, "rule": <aws.events.rule-name>}',
              },
            },
          }),
        ],
      },
    });
    await post(fixture('firing'));
    await post(fixture('resolved')); // does not match status=firing
    await t.app.settle();
    expect(r.received).toHaveLength(1);
    const [req] = r.received;
    const body = JSON.parse(req!.body);
    expect(body).toMatchObject({ alert: 'HighErrorRate', rule: 'hook' });
    const ts = req!.headers['x-rebound-timestamp'] as string;
    const expected = 'v1=' + createHmac('sha256', SECRET).update(`${ts}.${req!.body}`).digest('hex');
    expect(req!.headers['x-rebound-signature']).toBe(expected);
    expect(req!.headers['x-rebound-correlation-id']).toBeTruthy();
  });

  it('retries retryable failures with backoff and dead-letters permanent ones; redrive re-delivers', async () => {
    const r = await receiver();
    r.script.push(503, 500); // two transient failures, then 200
    t = await makeTestApp({ bus: { rules: [hookRule(r.url)] } });
    await post(webhook([{ labels: { alertname: 'A' } }]));
    await eventually(() => r.received.length === 3);
    await t.app.settle();

    r.script.push(400); // permanent
    await post(webhook([{ labels: { alertname: 'B' } }]));
    await eventually(async () => (await t!.app.http.inject({ url: '/v1/dlq' })).json().items.length === 1);
    const dlq = (await t.app.http.inject({ url: '/v1/dlq' })).json();
    expect(dlq.items[0]).toMatchObject({ target: 'hook/h', rule: 'hook', attempts: 1 });
    expect(dlq.items[0].error).toMatch(/answered 400.*retry cannot help/);
    expect(dlq.items[0].event.envelope.detail.labels.alertname).toBe('B');
    expect(dlq.items[0].correlationId).toBe(dlq.items[0].event.correlationId);

    const metrics = await t.app.http.inject({ url: '/metrics' });
    expect(metrics.body).toContain('rebound_bus_dlq_depth{target="hook/h"} 1');
    expect(metrics.body).toMatch(/rebound_bus_retried_total\{target="hook\/h"\} 2/);

    const redrive = await t.app.http.inject({
      method: 'POST',
      url: '/v1/dlq/redrive',
      payload: { target: 'hook/h' },
    });
    expect(redrive.json()).toEqual({ redriven: 1 });
    await eventually(() => r.received.length === 5);
    await t.app.settle();
    expect((await t.app.http.inject({ url: '/v1/dlq' })).json().items).toHaveLength(0);
  });

  it('deletes dead letters it is told to, without delivering them; the archive keeps their events', async () => {
    const r = await receiver();
    r.defaultStatus = 400; // permanent: each event goes straight to the DLQ
    t = await makeTestApp({ bus: { rules: [hookRule(r.url)] } });
    for (const alertname of ['A', 'B', 'C']) await post(webhook([{ labels: { alertname } }]));
    const listed = async () =>
      (await t!.app.http.inject({ url: '/v1/dlq' })).json().items as { id: number }[];
    await eventually(async () => (await listed()).length === 3);
    const del = (payload: object) => t!.app.http.inject({ method: 'POST', url: '/v1/dlq/delete', payload });

    const unnamed = await del({});
    expect(unnamed.statusCode).toBe(400);
    expect(unnamed.json().message).toMatch(/name the dead letters to delete: ids, target or since/);
    const mixed = await del({ ids: [1], target: 'hook/h' });
    expect(mixed.statusCode).toBe(400);
    expect(mixed.json().message).toMatch(/ids name the dead letters on their own/);
    const [first, ...rest] = await listed();
    expect((await del({ ids: [first!.id, 999_999] })).json()).toEqual({ deleted: 1 });
    expect((await listed()).map((d) => d.id)).toEqual(rest.map((d) => d.id));
    expect((await del({ target: 'no/such' })).json()).toEqual({ deleted: 0 });
    expect((await del({ all: true })).json()).toEqual({ deleted: 2 });
    expect(await listed()).toHaveLength(0);
    const received = r.received.length;
    await t.app.settle();
    expect(r.received).toHaveLength(received); // nothing was delivered again
    const metrics = await t.app.http.inject({ url: '/metrics' });
    expect(metrics.body).toContain('rebound_bus_dlq_depth{target="hook/h"} 0');
    expect((await t.app.events.listEvents({ limit: 10 })).items.length).toBeGreaterThanOrEqual(3);
  });

  it('gives up after maximumRetryAttempts and keeps the attempt count', async () => {
    const r = await receiver();
    r.defaultStatus = 502;
    t = await makeTestApp({ bus: { rules: [hookRule(r.url)] } });
    await post(webhook([{ labels: { alertname: 'C' } }]));
    await eventually(async () => (await t!.app.http.inject({ url: '/v1/dlq' })).json().items.length === 1);
    const [entry] = (await t.app.http.inject({ url: '/v1/dlq' })).json().items;
    expect(entry.attempts).toBe(4); // the first attempt + 3 retries
    expect(r.received).toHaveLength(4);
  });

  it('delivers events with the same incident key in order, one at a time', async () => {
    const r = await receiver();
    r.delayMs = 5;
    t = await makeTestApp({ bus: { rules: [hookRule(r.url, { concurrency: 8 })] } });
    for (let i = 0; i < 10; i++) {
      await post(
        webhook([{ labels: { alertname: 'Same', pod: `p${i}` } }, { labels: { alertname: `Other${i}` } }]),
      );
    }
    await eventually(() => r.received.length === 20);
    const same = r
      .json<{ detail: { labels: { pod?: string; alertname: string } } }>()
      .filter((e) => e.detail.labels.alertname === 'Same')
      .map((e) => e.detail.labels.pod);
    expect(same).toEqual(Array.from({ length: 10 }, (_, i) => `p${i}`));
  });

  it('holds a key behind a delivery waiting for its retry while other keys go out, then keeps its order', async () => {
    const r = await receiver();
    r.script.push(503); // the first delivery fails once
    r.delayMs = 100; // the rest arrive while it is under way
    t = await makeTestApp({ bus: { rules: [hookRule(r.url, { concurrency: 4 })] } });
    await post(webhook([{ labels: { alertname: 'Same', pod: 'p0' } }]));
    await eventually(() => r.received.length >= 1);
    await post(webhook([{ labels: { alertname: 'Same', pod: 'p1' } }]));
    await post(webhook([{ labels: { alertname: 'Other' } }]));
    await eventually(() => r.received.length === 4);
    await t.app.settle();
    const order = r
      .json<{ detail: { labels: { pod?: string; alertname: string } } }>()
      .map((e) => e.detail.labels.pod ?? e.detail.labels.alertname);
    expect(order.filter((o) => o !== 'Other')).toEqual(['p0', 'p0', 'p1']);
    expect(order.filter((o) => o === 'Other')).toHaveLength(1);
    expect(r.received).toHaveLength(4);
  });

  it('keeps at most `concurrency` deliveries under way and delivers every one', async () => {
    const r = await receiver();
    r.delayMs = 20;
    t = await makeTestApp({ bus: { rules: [hookRule(r.url, { concurrency: 3 })] } });
    const alerts = Array.from({ length: 12 }, (_, i) => ({ labels: { alertname: `Busy${i}` } }));
    await post(webhook(alerts));
    await eventually(() => r.received.length === 12);
    await t.app.settle();
    expect(r.mostOpen).toBe(3);
    const names = r
      .json<{ detail: { labels: { alertname: string } } }>()
      .map((e) => e.detail.labels.alertname);
    expect(new Set(names)).toEqual(new Set(alerts.map((a) => a.labels.alertname)));
    expect(names).toHaveLength(12); // none twice
  });

  it('reloads rules without losing queued deliveries', async () => {
    const r = await receiver();
    r.script.push(503);
    t = await makeTestApp({ bus: { rules: [hookRule(r.url)] } });
    await post(webhook([{ labels: { alertname: 'Q' } }]));
    const reload = await t.app.http.inject({ method: 'POST', url: '/v1/admin/reload' });
    expect(reload.json()).toEqual({ rules: 1, restartNeeded: [] });
    await eventually(() => r.received.length === 2);
  });
});

describe('bus shutdown', () => {
  it('leaves a delivery cut short by shutdown queued, with no attempt counted', async () => {
    const r = await receiver();
    r.delayMs = 5000; // still waiting for the answer when the server stops
    const noRetries = { ...fastRetry, maximumRetryAttempts: 0 }; // a counted failure would dead-letter it
    t = await makeTestApp({ bus: { rules: [hookRule(r.url, { retry: noRetries })] } });
    const dir = t.dir;
    await post(webhook([{ labels: { alertname: 'Cut' } }]));
    await eventually(() => r.received.length === 1);
    await t.app.stop();
    t = undefined;
    const db = new Database(join(dir, 'rebound.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT target, attempts FROM deliveries').all()).toEqual([
        { target: 'hook/h', attempts: 0 },
      ]);
      expect(db.prepare('SELECT COUNT(*) AS n FROM dead_letters').get()).toEqual({ n: 0 });
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('PutEvents', () => {
  it('answers per entry like PutEvents and routes accepted events', async () => {
    const r = await receiver();
    t = await makeTestApp({
      bus: {
        rules: [
          {
            name: 'orders',
            pattern: { source: ['shop'], detail: { total: [{ numeric: ['>', 100] }] } },
            targets: [{ kind: 'webhook' as const, id: 'w', url: r.url }],
          },
        ],
      },
    });
    const res = await t.app.http.inject({
      method: 'POST',
      url: '/v1/events',
      payload: {
        Entries: [
          { Source: 'shop', DetailType: 'order', Detail: JSON.stringify({ total: 150 }) },
          { Source: 'shop', DetailType: 'order', Detail: '{not json' },
          { Source: 'rebound.alertmanager', DetailType: 'Alertmanager Alert', Detail: '{}' },
          { Source: 'shop', DetailType: 'order', Detail: JSON.stringify({ total: 50 }) },
          { DetailType: 'x', Detail: '{}' },
        ],
      },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.FailedEntryCount).toBe(3);
    // Time-ordered ids (UUIDv7), in the order of the entries: they append to the events' id index.
    const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(body.Entries[0].EventId).toMatch(UUID_V7);
    expect(body.Entries[3].EventId).toMatch(UUID_V7);
    expect(body.Entries[3].EventId > body.Entries[0].EventId).toBe(true);
    expect(body.Entries[1]).toMatchObject({ ErrorCode: 'MalformedDetail' });
    expect(body.Entries[2]).toMatchObject({
      ErrorCode: 'InvalidArgument',
      ErrorMessage: expect.stringMatching(/reserved/),
    });
    expect(body.Entries[4]).toMatchObject({
      ErrorCode: 'InvalidArgument',
      ErrorMessage: expect.stringMatching(/Source/),
    });
    await t.app.settle();
    expect(r.json()).toHaveLength(1);
    expect(r.json()[0]).toMatchObject({ source: 'shop', 'detail-type': 'order', detail: { total: 150 } });
    const tooMany = await t.app.http.inject({
      method: 'POST',
      url: '/v1/events',
      payload: {
        Entries: Array.from({ length: 11 }, () => ({ Source: 's', DetailType: 'd', Detail: '{}' })),
      },
    });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().message).toMatch(/at most 10/);
  });

  it('refuses an entry whose Detail could not be stored as sent, naming where', async () => {
    t = await makeTestApp();
    const res = await t.app.http.inject({
      method: 'POST',
      url: '/v1/events',
      payload: {
        Entries: [
          { Source: 'shop', DetailType: 'order', Detail: '{"total":1e999}' },
          { Source: 'shop', DetailType: 'order', Detail: '{"items":[{"sku":"a\\ud800"}]}' },
          { Source: 'shop', DetailType: 'order', Detail: '{"total":1e300}' },
        ],
      },
    });
    expect(res.json()).toMatchObject({
      FailedEntryCount: 2,
      Entries: [
        {
          ErrorCode: 'MalformedDetail',
          ErrorMessage: 'Detail.total: the number is too large for a double (JSON numbers must be finite)',
        },
        {
          ErrorCode: 'MalformedDetail',
          ErrorMessage: expect.stringMatching(/^Detail\.items\[0\]\.sku: holds an unpaired UTF-16 surrogate/),
        },
        { EventId: expect.any(String) },
      ],
    });
  });

  it('lists archived events oldest or newest first, page by page', async () => {
    t = await makeTestApp();
    const times = [3, 1, 4, 2, 5].map((m) => `2026-11-25T10:0${m}:00Z`);
    const put = await t.app.http.inject({
      method: 'POST',
      url: '/v1/events',
      payload: {
        Entries: times.map((Time, n) => ({
          Source: 'shop',
          DetailType: 'order',
          Detail: `{"n":${n}}`,
          Time,
        })),
      },
    });
    expect(put.json().FailedEntryCount).toBe(0);
    const pages = async (order: string) => {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const res = await t!.app.http.inject({
          url: `/v1/events?order=${order}&limit=2&from=2026-11-25T00:00:00Z${cursor ? `&cursor=${cursor}` : ''}`,
        });
        expect(res.statusCode).toBe(200);
        const page = res.json() as { items: { envelope: { time: string } }[]; nextCursor?: string };
        seen.push(...page.items.map((e) => e.envelope.time.slice(14, 16)));
        cursor = page.nextCursor;
      } while (cursor);
      return seen;
    };
    expect(await pages('asc')).toEqual(['01', '02', '03', '04', '05']);
    expect(await pages('desc')).toEqual(['05', '04', '03', '02', '01']);
    const bad = await t.app.http.inject({ url: '/v1/events?order=newest' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().path).toBe('order');
  });

  it('refuses only the entry whose Detail nests too deeply to store; the others are accepted', async () => {
    t = await makeTestApp();
    const deep = `{"a":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
    const res = await t.app.http.inject({
      method: 'POST',
      url: '/v1/events',
      payload: {
        Entries: [
          { Source: 'shop', DetailType: 'order', Detail: '{"a":1}' },
          { Source: 'shop', DetailType: 'order', Detail: deep },
        ],
      },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      FailedEntryCount: 1,
      Entries: [{ EventId: expect.any(String) }, { ErrorCode: 'MalformedDetail' }],
    });
  });
});

describe('archive and replay', () => {
  it('replays archived events in a time range, marked as replays, with progress', async () => {
    const r = await receiver();
    const incidentsRule = {
      name: 'alerts-to-incidents',
      pattern: { source: ['rebound.alertmanager'] },
      targets: [{ kind: 'incidents' as const, id: 'incidents' }],
    };
    t = await makeTestApp({ bus: { rules: [hookRule(r.url), incidentsRule] } });
    await post(webhook([{ labels: { alertname: 'R1' } }, { labels: { alertname: 'R2' } }]));
    await t.app.settle();
    expect(r.received).toHaveLength(2);
    const from = new Date(Date.now() - 60_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const dry = await t.app.http.inject({
      method: 'POST',
      url: '/v1/replays',
      payload: { from, to, dryRun: true, name: 'dry' },
    });
    expect(dry.statusCode).toBe(202);
    await eventually(
      async () => (await t!.app.http.inject({ url: '/v1/replays/dry' })).json().state === 'completed',
    );
    // Four archived events: the two alerts and the two incidents' `Incident Opened` (which no rule matches).
    expect((await t.app.http.inject({ url: '/v1/replays/dry' })).json()).toMatchObject({
      total: 4,
      scanned: 4,
      matched: 2,
      deliveries: 4,
    });
    expect(r.received).toHaveLength(2);

    const res = await t.app.http.inject({
      method: 'POST',
      url: '/v1/replays',
      payload: { from, to, pattern: { detail: { labels: { alertname: ['R2'] } } }, name: 'again' },
    });
    expect(res.statusCode).toBe(202);
    const invalid = await t.app.http.inject({
      method: 'POST',
      url: '/v1/replays',
      payload: { from, to, pattern: { detail: { severity: 'page' } } },
    });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json()).toMatchObject({ code: 'INVALID_PATTERN', path: 'pattern.detail.severity' });
    expect(invalid.json().message).toMatch(/^body\.pattern\.detail\.severity: a field must hold an array/);
    const quoted = await t.app.http.inject({
      method: 'POST',
      url: '/v1/replays',
      payload: { from, to, pattern: { 'a b': 'x' } },
    });
    expect(quoted.json().path).toBe('pattern["a b"]');
    await eventually(() => r.received.length === 3);
    await t.app.settle();
    const replayed = r.json()[2]!;
    expect(replayed['replay-name']).toBe('again');
    expect((replayed['detail'] as { labels: { alertname: string } }).labels.alertname).toBe('R2');
    // The incidents target saw the replay too, and being idempotent on the event id, changed nothing.
    const incidents = (await t.app.http.inject({ url: '/v1/incidents' })).json().items;
    expect(incidents).toHaveLength(2);
  });

  it('matches replayed events with their replay-name, so a rule can keep replays out', async () => {
    const live = await receiver();
    const replays = await receiver();
    const pattern = { source: ['rebound.alertmanager'] };
    t = await makeTestApp({
      bus: {
        rules: [
          {
            name: 'live-only',
            pattern: { ...pattern, 'replay-name': [{ exists: false }] },
            targets: [{ kind: 'webhook' as const, id: 'h', url: live.url }],
          },
          {
            name: 'replays-only',
            pattern: { ...pattern, 'replay-name': [{ exists: true }] },
            targets: [{ kind: 'webhook' as const, id: 'h', url: replays.url }],
          },
        ],
      },
    });
    await post(webhook([{ labels: { alertname: 'L1' } }]));
    await t.app.settle();
    expect([live.received.length, replays.received.length]).toEqual([1, 0]);
    const from = new Date(Date.now() - 60_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    await t.app.http.inject({ method: 'POST', url: '/v1/replays', payload: { from, to, name: 'r1' } });
    await eventually(() => replays.received.length === 1);
    await t.app.settle();
    expect(live.received).toHaveLength(1);
    expect(replays.json()[0]).toMatchObject({ 'replay-name': 'r1' });
  });
});

describe('targets removed from the configuration', () => {
  it('after a restart, what was still queued for them goes to the dead-letter queue', async () => {
    const r = await receiver();
    r.defaultStatus = 503; // nothing gets through: the delivery stays queued
    const first = await makeTestApp({
      bus: { rules: [hookRule(r.url, { retry: { ...fastRetry, baseDelayMs: 60_000, maxDelayMs: 60_000 } })] },
    });
    t = first;
    await post(webhook([{ labels: { alertname: 'Orphan' } }]));
    await eventually(() => r.received.length >= 1);
    await first.app.stop();
    t = await makeTestApp({ bus: { rules: [] } }, undefined, first.dir);
    await eventually(async () => (await t!.app.http.inject({ url: '/v1/dlq' })).json().items.length === 1);
    const [dead] = (await t.app.http.inject({ url: '/v1/dlq' })).json().items;
    expect(dead).toMatchObject({ target: 'hook/h', error: 'target hook/h is no longer configured' });
  });
});

describe('routing', () => {
  it('routes a backlog from the log after a restart, then appends as they are stored: each event once', async () => {
    const r = await receiver();
    const rules = [
      {
        name: 'orders',
        pattern: { source: ['shop'] },
        targets: [{ kind: 'webhook' as const, id: 'w', url: r.url, concurrency: 16 }],
      },
    ];
    const first = await makeTestApp({ bus: { rules } });
    await first.app.stop();
    // Events stored while no router ran (as if it crashed before routing them): a backlog to read.
    const db = new Database(join(first.dir, 'rebound.db'));
    const insert = db.prepare(`INSERT INTO events (id, dedup_key, time, received_at, correlation_id, envelope)
      VALUES (?, ?, ?, ?, ?, ?)`);
    const time = new Date().toISOString();
    for (let n = 0; n < 250; n++) {
      const id = `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`;
      const envelope = { version: '0', id, 'detail-type': 'order', source: 'shop', account: '0', time };
      insert.run(
        id,
        id,
        time,
        time,
        `c-${n}`,
        JSON.stringify({ ...envelope, region: 'local', resources: [], detail: { n } }),
      );
    }
    db.close();
    t = await makeTestApp({ bus: { rules } }, undefined, first.dir);
    const publish = async (from: number, to: number, gapMs = 0) => {
      for (let n = from; n < to; n++) {
        if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
        const res = await t!.app.http.inject({
          method: 'POST',
          url: '/v1/events',
          payload: { Entries: [{ Source: 'shop', DetailType: 'order', Detail: JSON.stringify({ n }) }] },
        });
        expect(res.json().FailedEntryCount).toBe(0);
      }
    };
    // Published while the router catches up (left to it, or handed over once it has: the machine's speed
    // decides which), then once it has caught up and the process is idle, when each is handed over as it is
    // stored. (A saturated process leaves routing to the paced router, see pacer.ts: the pause and the gaps
    // let the event loop's measured utilisation fall, however slow the machine.)
    await publish(250, 275);
    await t.app.settle();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await publish(275, 300, 10);
    await eventually(() => r.received.length >= 300);
    await t.app.settle();
    const seen = r.json<{ detail: { n: number } }>().map((e) => e.detail.n);
    expect(seen).toHaveLength(300);
    expect(new Set(seen).size).toBe(300);
    // Both paths ran: the backlog was read from the log, the rest handed over as stored.
    const metrics = (await t.app.http.inject({ url: '/metrics' })).body;
    const routed = (path: string) => counter(metrics, `rebound_bus_routed_total{path="${path}"}`);
    expect(routed('log')).toBeGreaterThanOrEqual(250);
    expect(routed('inline')).toBeGreaterThan(0);
    expect(routed('log') + routed('inline')).toBe(300);
  });

  it('counts a match once when a hand-over in the storing transaction fails and the router routes it from the log', async () => {
    const r = await receiver();
    const rules = [
      {
        name: 'orders',
        pattern: { source: ['shop'] },
        targets: [{ kind: 'webhook' as const, id: 'w', url: r.url }],
      },
    ];
    t = await makeTestApp({ bus: { rules } });
    const publish = async () => {
      const res = await t!.app.http.inject({
        method: 'POST',
        url: '/v1/events',
        payload: { Entries: [{ Source: 'shop', DetailType: 'order', Detail: '{}' }] },
      });
      expect(res.json().FailedEntryCount).toBe(0); // stored, whatever happens to routing
    };
    const counters = async () => {
      const metrics = (await t!.app.http.inject({ url: '/metrics' })).body;
      return {
        matched: counter(metrics, 'rebound_bus_matched_total{rule="orders"}'),
        inline: counter(metrics, 'rebound_bus_routed_total{path="inline"}'),
        log: counter(metrics, 'rebound_bus_routed_total{path="log"}'),
      };
    };
    // Until the router has caught up with the (empty) log, appends are left to it: warm it up first.
    await publish();
    await eventually(() => r.received.length >= 1);
    await t.app.settle();
    // A hand-over fails in one of its two writes while `fail` has a row: the deliveries, or the router's
    // offset written after them. The router's own reading of the log fails the same way until the row goes.
    const db = new Database(join(t.dir, 'rebound.db'));
    db.exec('CREATE TABLE fail (x INTEGER)');
    const failing = (table: string) => `
      CREATE TRIGGER fail_insert BEFORE INSERT ON ${table} WHEN EXISTS (SELECT 1 FROM fail)
      BEGIN SELECT RAISE(ABORT, 'injected failure'); END;
      CREATE TRIGGER fail_update BEFORE UPDATE ON ${table} WHEN EXISTS (SELECT 1 FROM fail)
      BEGIN SELECT RAISE(ABORT, 'injected failure'); END;
      INSERT INTO fail VALUES (1);`;
    for (const [n, table] of [
      [2, 'deliveries'],
      [3, 'consumer_offsets'],
    ] as const) {
      const before = await counters();
      db.exec(failing(table));
      await publish();
      await new Promise((resolve) => setTimeout(resolve, 300)); // the router meets the failure too
      db.exec('DELETE FROM fail; DROP TRIGGER fail_insert; DROP TRIGGER fail_update;');
      await eventually(() => r.received.length >= n);
      await t.app.settle();
      const after = await counters();
      expect(after.matched - before.matched, table).toBe(1);
      expect(after.inline + after.log - before.inline - before.log, table).toBe(1);
    }
    db.close();
    expect(r.received).toHaveLength(3);
  });
});

describe('replay progress', () => {
  it('keeps the latest 100 finished replays, not every one since the start', async () => {
    t = await makeTestApp();
    const range = { from: new Date(Date.now() - 60_000).toISOString(), to: new Date().toISOString() };
    for (let i = 0; i < 105; i++) {
      t.app.bus.startReplay({ ...range, dryRun: true, name: `r${i}` });
      await eventually(() => t!.app.bus.replay(`r${i}`)?.state === 'completed');
    }
    t.app.bus.startReplay({ ...range, dryRun: true, name: 'last' });
    expect(t.app.bus.replay('r0')).toBeUndefined();
    expect(t.app.bus.replay('r4')).toBeUndefined();
    expect(t.app.bus.replay('r5')).toBeDefined(); // 100 finished ones, and the running one besides
    expect(t.app.bus.replay('last')).toBeDefined();
    // A forgotten replay's name stays taken: its runbook executions already have their names.
    const again = await t.app.http.inject({
      method: 'POST',
      url: '/v1/replays',
      payload: { ...range, name: 'r0' },
    });
    expect(again.statusCode).toBe(409);
  });
});

describe('workflow target execution names', () => {
  it('stay within 80 characters and distinct however long the rule and replay names are', () => {
    expect(executionName('remediate', null, 'inc_01J')).toBe('remediate-inc_01J');
    const rule = 'r'.repeat(64);
    const replay = 'replay-1a2b3c4d';
    // UUIDv7 ids of one quarter second share their beginning: the end is what tells them apart.
    const ids = ['0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c'];
    const names = ids.map((id) => executionName(rule, replay, id));
    expect(new Set(names).size).toBe(2);
    for (const n of names) expect(n).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    expect(names[0]!.startsWith(rule.slice(0, 40))).toBe(true);
  });
});

describe('delivery policy', () => {
  const policy = { maximumEventAgeSeconds: 60, maximumRetryAttempts: 2, baseDelayMs: 1000, maxDelayMs: 4000 };
  it('backs off exponentially with full jitter, capped, until attempts or age run out', () => {
    expect(decideRetry(policy, 1, 0, 0, { retryable: true }, () => 0.999)).toEqual({
      retry: true,
      notBefore: 999,
    });
    expect(decideRetry(policy, 2, 0, 0, { retryable: true }, () => 0.5)).toEqual({
      retry: true,
      notBefore: 1000,
    });
    expect(decideRetry(policy, 3, 0, 0, { retryable: true })).toMatchObject({ retry: false });
    expect(
      decideRetry({ ...policy, maximumRetryAttempts: 185 }, 20, 0, 0, { retryable: true }, () => 1),
    ).toEqual({
      retry: true,
      notBefore: 4000,
    });
    expect(decideRetry(policy, 1, 0, 59_500, { retryable: true }, () => 1)).toMatchObject({
      retry: false,
      reason: expect.stringMatching(/older/),
    });
    expect(decideRetry(policy, 1, 0, 0, { retryable: false })).toMatchObject({ retry: false });
    // The peer's Retry-After is a floor under the jittered backoff, not a replacement for it.
    expect(decideRetry(policy, 1, 0, 0, { retryable: true, retryAfterMs: 30_000 }, () => 0.5)).toEqual({
      retry: true,
      notBefore: 30_000,
    });
    expect(decideRetry(policy, 2, 0, 0, { retryable: true, retryAfterMs: 10 }, () => 0.5)).toEqual({
      retry: true,
      notBefore: 1000,
    });
  });

  it('holds back later deliveries of a key behind one waiting for its retry', () => {
    const d = (id: number, key: string, notBefore = 0) => ({ id, orderingKey: key, notBefore }) as Delivery;
    const { due, nextAt } = selectDue([d(1, 'a', 500), d(2, 'a'), d(3, 'b'), d(4, 'b'), d(5, 'c', 200)], 100);
    expect(due.map((g) => g.map((x) => x.id))).toEqual([[3, 4]]);
    expect(nextAt).toBe(200);
  });
});
