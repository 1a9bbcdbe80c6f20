import { afterEach, describe, expect, it } from 'vitest';
import type { ActionContext } from '../../src/actions/types.ts';
import { makeTestApp, webhook, type TestApp } from '../support/app.ts';
import { eventually } from '../support/http-receiver.ts';
import type { HttpRecorder } from '../support/receivers/http-recorder.ts';
import { startPagerDutyReceiver } from '../support/receivers/pagerduty.ts';

let t: TestApp | undefined;
let pd: HttpRecorder | undefined;
afterEach(async () => {
  await t?.close();
  await pd?.close();
  t = undefined;
  pd = undefined;
});

const ctx = (key: string): ActionContext => ({
  idempotencyKey: key,
  shadow: false,
  signal: new AbortController().signal,
  runbook: 'by-hand',
  now: () => new Date(),
});

/** An app with only the incidents rule (no runbook runs) and PagerDuty on a local receiver. */
async function start() {
  pd = await startPagerDutyReceiver();
  t = await makeTestApp({
    bus: {
      rules: [
        {
          name: 'alerts-to-incidents',
          pattern: { source: ['rebound.alertmanager'] },
          targets: [{ kind: 'incidents', id: 'incidents' }],
        },
      ],
    },
    notify: { pagerduty: { routingKey: 'K'.repeat(32), url: pd.url }, attempts: 1 },
    // A cluster and an allowlist: live mode, where escalations count against the breaker.
    kubernetes: { clusters: { prod: { kubeconfig: '/nonexistent' } } },
    guard: { allowlist: { namespaces: ['shop'] } },
  });
  await t.app.http.inject({
    method: 'POST',
    url: '/v1/webhooks/alertmanager',
    payload: webhook([
      { labels: { alertname: 'A', namespace: 'shop', service: 'web', severity: 'warning' } },
    ]),
  });
  await t.app.settle();
  return (await t.app.incidents.list({ limit: 1 })).items[0]!;
}

describe('incident.* actions', () => {
  it('escalate: status, page with the incident id as dedup_key, a breaker failure for its namespace', async () => {
    const incident = await start();
    const result = await t!.app.actions.run(
      'incident.escalate',
      { incidentId: incident.id, reason: 'x'.repeat(3000) },
      ctx('k1'),
    );
    expect(result.output).toMatchObject({
      status: 'escalated',
      escalated: true,
      breaker: { scope: 'prod/shop', state: 'closed' },
      notifications: [
        { channel: 'pagerduty', delivered: true, reference: incident.id },
        { channel: 'slack', delivered: false },
      ],
    });
    // Long reasons are cut, never refused: an escalation must not fail on its own message.
    const [page] = pd!.jsonBodies() as { payload: { custom_details: { description: string } } }[];
    expect(page!.payload.custom_details.description).toHaveLength(2000);
  });

  it('escalate on a resolved incident pages nobody and says why', async () => {
    const incident = await start();
    await t!.app.incidents.resolve(incident.id, 'user:ann');
    const result = await t!.app.actions.run(
      'incident.escalate',
      { incidentId: incident.id, reason: 'late' },
      ctx('k2'),
    );
    expect(result.output).toMatchObject({ status: 'resolved', escalated: false, notifications: [] });
    expect(pd!.requests).toHaveLength(0);
    const { timeline } = await t!.app.incidents.get(incident.id);
    expect(timeline.at(-1)).toMatchObject({
      actor: 'runbook:by-hand',
      description: 'Escalation not sent: the incident already resolved (late)',
    });
  });

  it('escalate resolves its page again when the incident resolved while the page was being sent', async () => {
    const incident = await start();
    // PagerDuty takes its time with the trigger; meanwhile the incident's alerts resolve.
    const accepted = { status: 'success', message: 'Event processed', dedup_key: incident.id };
    pd!.script({ status: 202, body: accepted, delayMs: 1000 });
    const escalation = t!.app.actions.run(
      'incident.escalate',
      { incidentId: incident.id, reason: 'r' },
      ctx('k3'),
    );
    await eventually(() => pd!.requests.length === 1);
    await t!.app.incidents.resolve(incident.id, 'user:ann');
    await escalation;
    const actions = (pd!.jsonBodies() as { event_action: string; dedup_key: string }[]).map((e) => [
      e.event_action,
      e.dedup_key,
    ]);
    expect(actions).toEqual([
      ['trigger', incident.id],
      ['resolve', incident.id],
    ]);
    const { timeline } = await t!.app.incidents.get(incident.id);
    expect(timeline.at(-1)).toMatchObject({
      kind: 'notification',
      description: `Resolved while it was being escalated: pagerduty delivered (${incident.id})`,
    });
  });

  it('note moves through the lifecycle only where it may, and always leaves the note', async () => {
    const incident = await start();
    const run = (params: object, key: string) =>
      t!.app.actions.run('incident.note', { incidentId: incident.id, ...params }, ctx(key));
    expect((await run({ description: 'acting', status: 'remediating' }, 'n1')).output).toEqual({
      incidentId: incident.id,
      status: 'remediating',
    });
    await t!.app.incidents.resolve(incident.id, 'user:ann');
    expect((await run({ description: 'too late', status: 'verifying' }, 'n2')).output).toEqual({
      incidentId: incident.id,
      status: 'resolved',
    });
    const { timeline } = await t!.app.incidents.get(incident.id);
    expect(timeline.at(-1)).toMatchObject({ kind: 'comment', description: 'too late' });
    const invalid = await t!.app.actions
      .run('incident.note', { incidentId: incident.id, description: 'x', status: 'open' }, ctx('n3'))
      .catch((e: Error) => e);
    expect(invalid).toMatchObject({ code: 'INVALID_PAYLOAD', path: 'status' });
  });
});
