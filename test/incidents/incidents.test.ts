import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { canTransition, transition, INCIDENT_STATUSES } from '../../src/incidents/lifecycle.ts';
import { correlationKey } from '../../src/incidents/correlate.ts';
import { incidentsConfigSchema } from '../../src/incidents/config.ts';
import { ingest, makeTestApp, webhook, type TestApp } from '../support/app.ts';
import { eventually } from '../support/http-receiver.ts';

let t: TestApp;
afterEach(async () => t?.close());

// Only the incidents rule: these tests are about incidents on their own, with no runbook moving them.
const INCIDENTS_ONLY = {
  bus: {
    rules: [
      {
        name: 'alerts-to-incidents',
        pattern: { source: ['rebound.alertmanager'] },
        targets: [{ kind: 'incidents' as const, id: 'incidents' }],
      },
    ],
  },
};

async function listIncidents(query = '') {
  const res = await t.app.http.inject({ method: 'GET', url: `/v1/incidents${query}` });
  expect(res.statusCode).toBe(200);
  return res.json() as {
    items: { id: string; status: string; firingCount: number; alertCount: number; severity: string }[];
    nextCursor?: string;
  };
}

describe('incident lifecycle', () => {
  it('allows the documented moves and refuses the rest with a message naming both ends', () => {
    expect(canTransition('open', 'remediating')).toBe(true);
    expect(canTransition('remediating', 'verifying')).toBe(true);
    expect(canTransition('verifying', 'resolved')).toBe(true);
    expect(canTransition('verifying', 'escalated')).toBe(true);
    expect(() => transition('resolved', 'open')).toThrow(/resolved is final/);
    expect(() => transition('open', 'verifying')).toThrow(/from open to verifying/);
    for (const s of INCIDENT_STATUSES) expect(canTransition(s, s)).toBe(false);
  });
});

describe('correlation', () => {
  const config = incidentsConfigSchema.parse({
    correlation: { rules: [{ match: { alertname: 'NodeNotReady' }, labels: ['cluster'] }] },
  }).correlation;

  it('keys on the correlation labels present, in configured order', () => {
    expect(correlationKey({ alertname: 'A', service: 's', pod: 'p1' }, 'f', config).key).toBe(
      'alertname="A",service="s"',
    );
    expect(correlationKey({ alertname: 'A', service: 's', pod: 'p2' }, 'f', config).key).toBe(
      'alertname="A",service="s"',
    );
  });

  it('applies the first matching per-matcher rule', () => {
    expect(correlationKey({ alertname: 'NodeNotReady', cluster: 'c1', node: 'n1' }, 'f', config).key).toBe(
      'cluster="c1"',
    );
  });

  it('keeps two nodes apart by default, and other alerts carrying a node label together', () => {
    const defaults = incidentsConfigSchema.parse({}).correlation;
    const notReady = (node: string) =>
      correlationKey({ alertname: 'KubeNodeNotReady', namespace: 'monitoring', node }, 'f', defaults).key;
    expect(notReady('node-b')).toBe('alertname="KubeNodeNotReady",node="node-b"');
    expect(notReady('node-c')).not.toBe(notReady('node-b'));
    const throttled = (node: string) =>
      correlationKey(
        { alertname: 'CPUThrottlingHigh', namespace: 'shop', service: 'checkout', node },
        'f',
        defaults,
      ).key;
    expect(throttled('node-b')).toBe(throttled('node-c'));
  });

  it('falls back to the fingerprint when no correlation label is present', () => {
    expect(correlationKey({ foo: 'bar' }, 'abc', config).key).toBe('fingerprint=abc');
  });
});

describe('incidents from alerts', () => {
  it('correlates alerts of the same key into one incident and resolves it when all resolve', async () => {
    t = await makeTestApp(INCIDENTS_ONLY);
    const a = {
      alertname: 'HighErrorRate',
      namespace: 'shop',
      service: 'checkout',
      pod: 'a',
      severity: 'warning',
    };
    const b = { ...a, pod: 'b', severity: 'critical' };
    await ingest(t.app, webhook([{ labels: a }]));
    await ingest(t.app, webhook([{ labels: b }]));
    let { items } = await listIncidents();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ status: 'open', alertCount: 2, firingCount: 2, severity: 'critical' });

    await ingest(t.app, webhook([{ labels: a, status: 'resolved' }]));
    ({ items } = await listIncidents());
    expect(items[0]).toMatchObject({ status: 'open', firingCount: 1 });

    await ingest(t.app, webhook([{ labels: b, status: 'resolved' }]));
    ({ items } = await listIncidents());
    expect(items[0]).toMatchObject({ status: 'resolved', firingCount: 0 });

    const detail = (await t.app.http.inject({ method: 'GET', url: `/v1/incidents/${items[0]!.id}` })).json();
    expect(detail.alerts).toHaveLength(2);
    expect(detail.timeline.map((e: { kind: string }) => e.kind)).toEqual([
      'incident.opened',
      'alert.attached',
      'alert.attached',
      'alert.resolved',
      'alert.resolved',
      'status.changed',
    ]);
    expect(detail.timeline.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(detail.timeline[0].correlationId).toBeTruthy();

    // A new firing alert after resolution opens a new incident.
    await ingest(t.app, webhook([{ labels: a, startsAt: '2026-11-25T21:00:00Z' }]));
    expect((await listIncidents()).items).toHaveLength(2);
  });

  it('one notification that resolves an incident and fires its key again opens a new incident', async () => {
    t = await makeTestApp(INCIDENTS_ONLY);
    const a = { alertname: 'HighErrorRate', namespace: 'shop', service: 'checkout', pod: 'p1' };
    const b = { ...a, pod: 'p2' };
    await ingest(t.app, webhook([{ labels: a }]));
    // A flapping alert: A resolves and B of the same key fires in the same batch of the projection.
    await ingest(t.app, webhook([{ labels: a, status: 'resolved' }, { labels: b }]));
    const { items } = await listIncidents();
    expect(items.map((i) => [i.status, i.firingCount])).toEqual([
      ['open', 1],
      ['resolved', 0],
    ]);
    const metrics = (await t.app.http.inject({ url: '/metrics' })).body;
    expect(metrics).not.toMatch(/rebound_bus_failed_total\{target="alerts-to-incidents\/incidents"\} [1-9]/);
  });

  it('keeps different keys apart and filters by status and service', async () => {
    t = await makeTestApp(INCIDENTS_ONLY);
    await ingest(
      t.app,
      webhook([{ labels: { alertname: 'X', service: 'a' } }, { labels: { alertname: 'Y', service: 'b' } }]),
    );
    expect((await listIncidents()).items).toHaveLength(2);
    expect((await listIncidents('?service=a')).items).toHaveLength(1);
    expect((await listIncidents('?status=resolved')).items).toHaveLength(0);
    const bad = await t.app.http.inject({ method: 'GET', url: '/v1/incidents?status=bogus' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/unknown status "bogus"/);
  });

  it('pages through incidents with a cursor, newest first', async () => {
    let clock = Date.parse('2026-11-25T00:00:00Z');
    t = await makeTestApp(INCIDENTS_ONLY, () => new Date((clock += 1000)));
    for (let i = 0; i < 5; i++) await ingest(t.app, webhook([{ labels: { alertname: `A${i}` } }]));
    const first = await listIncidents('?limit=2');
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).toBeTruthy();
    const second = await listIncidents(`?limit=2&cursor=${first.nextCursor}`);
    const third = await listIncidents(`?limit=2&cursor=${second.nextCursor}`);
    expect(third.nextCursor).toBeUndefined();
    const ids = [...first.items, ...second.items, ...third.items].map((i) => i.id);
    expect(new Set(ids).size).toBe(5);
    expect(ids).toEqual([...ids].sort().reverse());
    expect((await t.app.http.inject({ method: 'GET', url: '/v1/incidents?cursor=garbage' })).statusCode).toBe(
      400,
    );
    // Well-formed JSON of the wrong shape (another list's cursor, or a hand-made one) is refused too, on
    // every paginated list, rather than read as an empty page.
    const cursor = (parts: unknown[]) => Buffer.from(JSON.stringify(parts)).toString('base64url');
    for (const url of [
      `/v1/incidents?cursor=${cursor([])}`,
      `/v1/incidents?cursor=${cursor(['~'])}`,
      `/v1/events?cursor=${cursor(['2026-11-25T00:00:00Z', 'x'])}`,
      `/v1/dlq?cursor=${cursor(['x'])}`,
      `/v1/executions?cursor=${cursor(['x', 1])}`,
    ]) {
      const res = await t.app.http.inject({ url });
      expect([url, res.statusCode]).toEqual([url, 400]);
      expect(res.json().message).toMatch(/cursor/);
    }
  });

  it('acknowledges and resolves through the API with actor and comment, and refuses illegal moves', async () => {
    t = await makeTestApp(INCIDENTS_ONLY);
    await ingest(t.app, webhook([{ labels: { alertname: 'Z' } }]));
    const [incident] = (await listIncidents()).items;
    const ack = await t.app.http.inject({
      method: 'POST',
      url: `/v1/incidents/${incident!.id}/acknowledge`,
      payload: { actor: 'alice', comment: 'looking' },
    });
    expect(ack.statusCode).toBe(200);
    expect(ack.json().incident.status).toBe('acknowledged');
    const resolve = await t.app.http.inject({
      method: 'POST',
      url: `/v1/incidents/${incident!.id}/resolve`,
      payload: {},
    });
    expect(resolve.json().incident.status).toBe('resolved');
    const again = await t.app.http.inject({
      method: 'POST',
      url: `/v1/incidents/${incident!.id}/acknowledge`,
      payload: {},
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('ILLEGAL_TRANSITION');
    const detail = (await t.app.http.inject({ method: 'GET', url: `/v1/incidents/${incident!.id}` })).json();
    const last = detail.timeline.slice(-2);
    expect(last[0]).toMatchObject({
      actor: 'user:local (alice)',
      kind: 'status.changed',
      description: 'Acknowledged by user:local (alice): looking',
    });
    expect(last[1].description).toBe('Resolved by user:local');
    const missing = await t.app.http.inject({ method: 'GET', url: '/v1/incidents/inc_nope' });
    expect(missing.statusCode).toBe(404);
  });

  it('resolves nothing for a resolved alert with no open incident', async () => {
    t = await makeTestApp(INCIDENTS_ONLY);
    await ingest(t.app, webhook([{ labels: { alertname: 'Ghost' }, status: 'resolved' }]));
    expect((await listIncidents()).items).toHaveLength(0);
  });

  it('an alert resolving after its incident was resolved by hand resolves there, and reopens nothing', async () => {
    t = await makeTestApp(INCIDENTS_ONLY);
    const a = { alertname: 'HighErrorRate', namespace: 'shop', service: 'checkout', pod: 'p1' };
    const b = { ...a, pod: 'p2' };
    await ingest(t.app, webhook([{ labels: a }, { labels: b }]));
    const [incident] = (await listIncidents()).items;
    const resolve = await t.app.http.inject({
      method: 'POST',
      url: `/v1/incidents/${incident!.id}/resolve`,
      payload: { comment: 'fixed by hand' },
    });
    expect(resolve.statusCode).toBe(200);
    await ingest(t.app, webhook([{ labels: a, status: 'resolved' }]));
    let { items } = await listIncidents();
    expect(items.map((i) => [i.id, i.status, i.alertCount, i.firingCount])).toEqual([
      [incident!.id, 'resolved', 2, 1],
    ]);
    await ingest(t.app, webhook([{ labels: b, status: 'resolved' }]));
    ({ items } = await listIncidents());
    expect(items.map((i) => [i.status, i.firingCount])).toEqual([['resolved', 0]]);
    const detail = (await t.app.http.inject({ method: 'GET', url: `/v1/incidents/${incident!.id}` })).json();
    expect(detail.alerts.map((x: { status: string }) => x.status)).toEqual(['resolved', 'resolved']);
    expect(detail.timeline.slice(-2).map((e: { kind: string }) => e.kind)).toEqual([
      'alert.resolved',
      'alert.resolved',
    ]);
    // Another resolved notification for it (a later occurrence, so not a duplicate at ingest): nothing changes.
    await ingest(t.app, webhook([{ labels: b, status: 'resolved', startsAt: '2026-11-25T22:00:00Z' }]));
    const again = (await t.app.http.inject({ method: 'GET', url: `/v1/incidents/${incident!.id}` })).json();
    expect(again.timeline).toHaveLength(detail.timeline.length);
    // The key firing again opens a new incident, as after any resolution.
    await ingest(t.app, webhook([{ labels: a, startsAt: '2026-11-25T23:00:00Z' }]));
    ({ items } = await listIncidents());
    expect(items.map((i) => i.status)).toEqual(['open', 'resolved']);
  });

  it('an alert of an incident resolved by hand resolves there even after its key opened a new incident', async () => {
    t = await makeTestApp(INCIDENTS_ONLY);
    const p1 = { alertname: 'HighErrorRate', namespace: 'shop', service: 'checkout', pod: 'p1' };
    const p3 = { ...p1, pod: 'p3' };
    await ingest(t.app, webhook([{ labels: p1 }]));
    const [x] = (await listIncidents()).items;
    await t.app.http.inject({ method: 'POST', url: `/v1/incidents/${x!.id}/resolve`, payload: {} });
    await ingest(t.app, webhook([{ labels: p3 }])); // opens Y
    await ingest(t.app, webhook([{ labels: p1, status: 'resolved' }]));
    const { items } = await listIncidents();
    const y = items.find((i) => i.id !== x!.id)!;
    expect(items.find((i) => i.id === x!.id)).toMatchObject({
      status: 'resolved',
      alertCount: 1,
      firingCount: 0,
    });
    // Y is not given an alert it never had.
    expect(y).toMatchObject({ status: 'open', alertCount: 1, firingCount: 1 });
  });

  it('reprocessing the event log after a lost checkpoint changes nothing (idempotent on event id)', async () => {
    t = await makeTestApp(INCIDENTS_ONLY);
    await ingest(
      t.app,
      webhook([{ labels: { alertname: 'R', pod: 'a' } }, { labels: { alertname: 'R', pod: 'b' } }]),
    );
    await ingest(t.app, webhook([{ labels: { alertname: 'R', pod: 'a' }, status: 'resolved' }]));
    const before = (await listIncidents()).items[0]!;
    const timeline = (await t.app.incidents.get(before.id)).timeline;
    await t.app.stop();
    // Lose the consumer checkpoint: on restart every event is projected again.
    const db = new Database(join(t.dir, 'rebound.db'));
    db.prepare('DELETE FROM consumer_offsets').run();
    db.close();
    t = await makeTestApp(INCIDENTS_ONLY, undefined, t.dir);
    await t.app.settle();
    const after = await t.app.incidents.get(before.id);
    expect(after.timeline).toEqual(timeline);
    expect(after.incident).toMatchObject({ firingCount: 1, alertCount: 2, status: 'open' });
    expect((await listIncidents()).items).toHaveLength(1);
  });
});

describe('retention', () => {
  it('deletes resolved incidents and archived events older than their retention, keeps the rest', async () => {
    let clock = Date.parse('2026-01-01T00:00:00Z');
    t = await makeTestApp(
      {
        incidents: { retention: { maxAgeDays: 30 } },
        bus: { ...INCIDENTS_ONLY.bus, archiveRetentionDays: 60 },
      },
      () => new Date(clock),
    );
    await ingest(t.app, webhook([{ labels: { alertname: 'Old' } }]));
    await ingest(t.app, webhook([{ labels: { alertname: 'Old' }, status: 'resolved' }]));
    await ingest(t.app, webhook([{ labels: { alertname: 'StillOpen' } }]));
    clock += 45 * 86_400_000;
    expect(await t.app.sweep()).toEqual({ incidents: 1, events: 0, executions: 0, approvals: 0 });
    const titles = async () =>
      (await t.app.http.inject({ url: '/v1/incidents' })).json().items.map((i: { title: string }) => i.title);
    expect(await titles()).toEqual(['StillOpen test']);
    // A replay of the archive reaches the incidents target again: it opens nothing for the purged incident
    // (that would page and start runbooks for an alert resolved 45 days ago), and changes the open one not.
    const replay = await t.app.http.inject({
      method: 'POST',
      url: '/v1/replays',
      payload: { from: '2025-12-31T00:00:00Z', to: '2026-01-02T00:00:00Z', name: 'history' },
    });
    expect(replay.statusCode).toBe(202);
    await eventually(
      async () => (await t.app.http.inject({ url: '/v1/replays/history' })).json().state === 'completed',
    );
    expect((await t.app.http.inject({ url: '/v1/replays/history' })).json()).toMatchObject({ matched: 3 });
    await t.app.settle();
    expect(await titles()).toEqual(['StillOpen test']);
    expect((await listIncidents()).items[0]).toMatchObject({ firingCount: 1, alertCount: 1 });
    clock += 20 * 86_400_000;
    // Three alerts, and the lifecycle events they caused: Old opened and resolved, StillOpen opened.
    expect(await t.app.sweep()).toEqual({ incidents: 0, events: 6, executions: 0, approvals: 0 });
    expect((await t.app.events.listEvents({ limit: 10 })).items).toHaveLength(0);
  });

  it('deletes workflow executions that ended longer ago than workflows.retention.maxAgeDays', async () => {
    let clock = Date.now();
    t = await makeTestApp(
      { ...INCIDENTS_ONLY, workflows: { retention: { maxAgeDays: 7 } } },
      () => new Date(clock),
    );
    const start = async (state: object) => {
      const definition = { StartAt: 'S', States: { S: { ...state, End: true } } };
      const res = await t!.app.http.inject({
        method: 'POST',
        url: '/v1/executions',
        payload: { definition },
      });
      expect(res.statusCode).toBe(201);
      return encodeURIComponent(res.json().executionId as string);
    };
    const status = async (id: string) =>
      (await t!.app.http.inject({ url: `/v1/executions/${id}` })).json().status as string;
    const ended = await start({ Type: 'Pass' });
    const running = await start({ Type: 'Wait', Seconds: 3600 });
    await eventually(async () => (await status(ended)) === 'SUCCEEDED');
    expect(await t.app.sweep()).toMatchObject({ executions: 0 });
    clock += 8 * 86_400_000;
    expect(await t.app.sweep()).toMatchObject({ executions: 1 });
    expect((await t.app.http.inject({ url: `/v1/executions/${ended}` })).statusCode).toBe(404);
    expect(await status(running)).toBe('RUNNING'); // however old, a running execution is kept
  });
});
