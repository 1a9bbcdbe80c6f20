import { afterEach, describe as suite, expect, it } from 'vitest';
import { eventually } from '../support/http-receiver.ts';
import {
  alert,
  clusterWrites,
  describe,
  finishedExecution,
  pages,
  slackTexts,
  startHarness,
  waitForStatus,
  type Harness,
} from './harness.ts';

const NODE = { alertname: 'KubeNodeNotReady', severity: 'warning', node: 'node-b' };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

interface Approval {
  id: string;
  runbook: string;
  summary: string;
  status: string;
  incidentId: string;
}

async function pendingApproval(): Promise<Approval> {
  let items: Approval[] = [];
  await eventually(async () => {
    items = (await h!.t.app.http.inject({ url: '/v1/approvals?status=pending' })).json().items as Approval[];
    return items.length === 1;
  });
  return items[0]!;
}

async function decide(id: string, decision: 'remediate' | 'skip') {
  const res = await h!.t.app.http.inject({
    method: 'POST',
    url: `/v1/approvals/${id}/decision`,
    payload: { decision },
  });
  expect(res.statusCode).toBe(200);
}

suite('runbook node-not-ready (approval required by default)', () => {
  it('waits for approval, then cordons and drains the node and verifies', async () => {
    h = await startHarness();
    await alert(h, NODE);
    const approval = await pendingApproval();
    expect(approval).toMatchObject({
      runbook: 'node-not-ready',
      summary: 'node-not-ready: KubeNodeNotReady on node-b',
      status: 'pending',
    });
    // Nothing is done before a human says yes.
    expect(clusterWrites(h)).toEqual([]);
    await decide(approval.id, 'remediate');
    await waitForStatus(h, 'verifying');
    const writes = clusterWrites(h);
    expect(writes[0]).toEqual({
      method: 'PATCH',
      path: '/api/v1/nodes/node-b',
      contentType: 'application/strategic-merge-patch+json',
      body: { spec: { unschedulable: true } },
    });
    const evictions = writes.filter((w) => w.path.endsWith('/eviction'));
    expect(evictions.length).toBeGreaterThan(0);
    for (const e of evictions) expect(e.body).toMatchObject({ apiVersion: 'policy/v1', kind: 'Eviction' });
    await alert(h, NODE, 'resolved');
    expect(await finishedExecution(h)).toMatchObject({ workflow: 'node-not-ready', status: 'SUCCEEDED' });
    const view = await waitForStatus(h, 'resolved');
    expect(describe(view)).toMatch(/after cordoning and draining node-b; the node stays cordoned/);
    expect(pages(h)).toEqual([]);
  });

  it('escalates, acting on nothing, when nobody approves in time', async () => {
    h = await startHarness();
    await alert(h, NODE);
    await pendingApproval();
    h.clock.offsetMs = 901_000;
    expect(await h.t.app.approvals.sweep()).toMatchObject({ expired: 1 });
    expect(await finishedExecution(h)).toMatchObject({ status: 'FAILED', error: 'Rebound.Escalated' });
    const view = await waitForStatus(h, 'escalated');
    expect(clusterWrites(h)).toEqual([]);
    expect(describe(view)).toMatch(
      /Escalated to on-call: nobody approved the node-not-ready runbook in time/,
    );
    expect(pages(h)).toMatchObject([
      {
        event_action: 'trigger',
        dedup_key: view.incident.id,
        payload: { custom_details: { event: 'escalated' } },
      },
    ]);
  });

  it('pages at once for a critical alert and still waits for approval before acting', async () => {
    h = await startHarness();
    await alert(h, { ...NODE, severity: 'critical' });
    const approval = await pendingApproval();
    const paged = await waitForStatus(h, 'escalated');
    expect(describe(paged)).toMatch(/critical alert: the node-not-ready runbook needs a human to approve/);
    expect(pages(h)).toMatchObject([{ event_action: 'trigger', dedup_key: paged.incident.id }]);
    expect(clusterWrites(h)).toEqual([]);
    await decide(approval.id, 'skip');
    expect(await finishedExecution(h)).toMatchObject({ status: 'SUCCEEDED' });
    expect(describe(await waitForStatus(h, 'escalated'))).toMatch(/Remediation skipped by .* \(via api\)/);
    expect(clusterWrites(h)).toEqual([]);
  });

  it('escalates when guard rails refuse nodes (the default allowlist leaves Node out)', async () => {
    h = await startHarness({
      guard: { allowlist: { namespaces: ['shop'] } },
      routes: { 'node-not-ready': { requiresApproval: false } },
    });
    await alert(h, NODE);
    expect(await finishedExecution(h)).toMatchObject({ status: 'FAILED', error: 'Rebound.Escalated' });
    const view = await waitForStatus(h, 'escalated');
    expect(clusterWrites(h)).toEqual([]);
    expect(describe(view)).toMatch(/Escalated to on-call: guard rails refused: .*Node/);
    await eventually(() => slackTexts(h!).length === 2);
    expect(slackTexts(h)[1]).toMatch(/^:sos: Escalated to on-call: \[WARNING\] KubeNodeNotReady on node-b/);
  });
});
