import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpReceiver, eventually } from '../support/http-receiver.ts';
import { ingest, makeTestApp, webhook, type TestApp } from '../support/app.ts';

let t: TestApp | undefined;
let hook: HttpReceiver | undefined;
afterEach(async () => {
  await t?.close();
  await hook?.stop();
  t = undefined;
  hook = undefined;
});

const ALERT = {
  alertname: 'CheckoutHighErrorRatio',
  namespace: 'shop',
  service: 'checkout',
  severity: 'critical',
};

async function lifecycle() {
  const { items } = await t!.app.events.listEvents({ limit: 100 });
  return items.filter((e) => e.envelope.source === 'rebound.incidents').map((e) => e.envelope);
}

/** Only the incidents rule and a webhook that hears every lifecycle event: no runbook runs in these tests. */
async function start() {
  hook = await new HttpReceiver().start();
  t = await makeTestApp({
    bus: {
      rules: [
        {
          name: 'alerts-to-incidents',
          pattern: { source: ['rebound.alertmanager'] },
          targets: [{ kind: 'incidents', id: 'incidents' }],
        },
        {
          name: 'lifecycle',
          pattern: { source: ['rebound.incidents'] },
          targets: [{ kind: 'webhook', id: 'hook', url: hook.url }],
        },
      ],
    },
  });
}

describe('incident lifecycle events', () => {
  it('announces an opening with the routing decision, in the event log and on the bus', async () => {
    await start();
    await ingest(
      t!.app,
      webhook([{ labels: { ...ALERT, deployment: 'checkout' }, annotations: { summary: '12% 5xx' } }]),
    );
    const [incident] = (await t!.app.incidents.list({ limit: 10 })).items;
    const events = await lifecycle();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      version: '0',
      'detail-type': 'Incident Opened',
      source: 'rebound.incidents',
      resources: [`rebound:incident/${incident!.id}`],
      detail: {
        incidentId: incident!.id,
        status: 'open',
        severity: 'critical',
        service: 'checkout',
        namespace: 'shop',
        alertname: 'CheckoutHighErrorRatio',
        summary: '12% 5xx',
        // All the opening alert's labels, not only the correlation key's: runbooks need `deployment`.
        labels: { ...ALERT, deployment: 'checkout' },
        runbook: 'high-error-rate',
        remediate: true,
        requiresApproval: false,
        channels: ['pagerduty'],
        correlationId: incident!.correlationId,
      },
    });
    await eventually(() => hook!.received.length === 1);
    expect(JSON.parse(hook!.received[0]!.body)).toMatchObject({ 'detail-type': 'Incident Opened' });
  });

  it('routes an alert no runbook knows to the fallback, and a low severity to Slack without remediation', async () => {
    await start();
    await ingest(t!.app, webhook([{ labels: { alertname: 'DiskAlmostFull', severity: 'low' } }]));
    const [opened] = await lifecycle();
    expect(opened!.detail).toMatchObject({
      runbook: 'unknown-alert',
      severity: 'info',
      remediate: false,
      channels: ['slack'],
    });
  });

  it('announces escalation, acknowledgement and resolution exactly once each, with the reason', async () => {
    await start();
    await ingest(t!.app, webhook([{ labels: ALERT }]));
    const [incident] = (await t!.app.incidents.list({ limit: 10 })).items;
    await t!.app.incidents.setStatus(incident!.id, 'escalated', {
      actor: 'runbook:test',
      kind: 'status.changed',
      description: 'verification failed',
    });
    await t!.app.incidents.acknowledge(incident!.id, 'user:ann');
    await ingest(t!.app, webhook([{ labels: ALERT, status: 'resolved' }]));
    const events = await lifecycle();
    expect(events.map((e) => e['detail-type'])).toEqual([
      'Incident Opened',
      'Incident Escalated',
      'Incident Acknowledged',
      'Incident Resolved',
    ]);
    expect(events[0]!.detail).not.toHaveProperty('escalatedAt');
    const escalatedAt = (await t!.app.incidents.get(incident!.id)).incident.escalatedAt!;
    expect(events[1]!.detail).toMatchObject({
      status: 'escalated',
      reason: 'verification failed',
      escalatedAt,
    });
    expect(events[2]!.detail).toMatchObject({ status: 'acknowledged', escalatedAt });
    expect(events[3]!.detail).toMatchObject({
      status: 'resolved',
      reason: 'all alerts resolved',
      escalatedAt,
    });
    await eventually(() => hook!.received.length === 4);
  });

  it('commits the event with the incident change: a change that loses its race announces nothing', async () => {
    await start();
    await ingest(t!.app, webhook([{ labels: ALERT }]));
    const [incident] = (await t!.app.incidents.list({ limit: 10 })).items;
    // Two escalations computed from the same version: one commits, the other conflicts and retries; the retry
    // finds the incident escalated already and the lifecycle refuses escalated → escalated.
    const moves = await Promise.allSettled([
      t!.app.incidents.setStatus(incident!.id, 'escalated', {
        actor: 'a',
        kind: 'status.changed',
        description: 'a',
      }),
      t!.app.incidents.setStatus(incident!.id, 'escalated', {
        actor: 'b',
        kind: 'status.changed',
        description: 'b',
      }),
    ]);
    expect(moves.filter((m) => m.status === 'fulfilled')).toHaveLength(1);
    const escalations = (await lifecycle()).filter((e) => e['detail-type'] === 'Incident Escalated');
    expect(escalations).toHaveLength(1);
    // On disk, too: every lifecycle event names an incident version that exists.
    const db = new Database(join(t!.dir, 'rebound.db'), { readonly: true });
    try {
      const rows = db
        .prepare(
          "SELECT dedup_key FROM events WHERE json_extract(envelope, '$.source') = 'rebound.incidents'",
        )
        .pluck()
        .all();
      expect(rows).toEqual([`incident:${incident!.id}:opened:v1`, `incident:${incident!.id}:escalated:v2`]);
    } finally {
      db.close();
    }
  });
});
