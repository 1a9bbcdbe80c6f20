import { afterEach, describe as suite, expect, it } from 'vitest';
import { eventually } from '../support/http-receiver.ts';
import {
  alert,
  breakers,
  clusterWrites,
  decide,
  describe,
  escalated,
  expireApprovals,
  finishedExecution,
  pages,
  pdTrigger,
  pendingApproval,
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

suite('runbook node-not-ready (approval required by default)', () => {
  it('waits for approval, then cordons and drains the node and verifies', async () => {
    h = await startHarness();
    await alert(h, NODE);
    const approval = await pendingApproval(h);
    expect(approval).toMatchObject({
      runbook: 'node-not-ready',
      summary: 'node-not-ready: KubeNodeNotReady on node-b',
      status: 'pending',
    });
    // Nothing is done before a human says yes.
    expect(clusterWrites(h)).toEqual([]);
    await decide(h, approval.id, 'remediate');
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
    await pendingApproval(h);
    await expireApprovals(h);
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
    const approval = await pendingApproval(h);
    const paged = await waitForStatus(h, 'escalated');
    expect(describe(paged)).toMatch(/critical alert: the node-not-ready runbook needs a human to approve/);
    expect(pages(h)).toMatchObject([{ event_action: 'trigger', dedup_key: paged.incident.id }]);
    expect(clusterWrites(h)).toEqual([]);
    await decide(h, approval.id, 'skip');
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

  it('leaves the node cordoned and escalates when the node stays not ready after the drain', async () => {
    h = await startHarness({ parameters: { verifyTimeoutSeconds: 1 } });
    const podsOnNodeB = h.api
      .list('pods')
      .filter((p) => (p['spec'] as { nodeName?: string }).nodeName === 'node-b')
      .map((p) => ({ namespace: p.metadata.namespace, name: p.metadata.name }));
    expect(podsOnNodeB.length).toBeGreaterThan(0);
    await alert(h, NODE);
    await decide(h, (await pendingApproval(h)).id, 'remediate');
    expect(await finishedExecution(h)).toMatchObject({ status: 'FAILED', error: 'Rebound.Escalated' });
    const view = await waitForStatus(h, 'escalated');
    const id = view.incident.id;
    // No compensation: the node is not ready anyway, so it stays cordoned (docs/escalation.md).
    const writes = clusterWrites(h);
    expect(writes[0]).toEqual({
      method: 'PATCH',
      path: '/api/v1/nodes/node-b',
      contentType: 'application/strategic-merge-patch+json',
      body: { spec: { unschedulable: true } },
    });
    // Then one policy/v1 Eviction per pod that was on the node, and nothing else (no uncordon).
    const evictions = writes.slice(1);
    expect(evictions.map((w) => `${w.method} ${w.path}`).sort()).toEqual(
      podsOnNodeB.map((p) => `POST /api/v1/namespaces/${p.namespace}/pods/${p.name}/eviction`).sort(),
    );
    for (const e of evictions) {
      expect(e.body).toMatchObject({ apiVersion: 'policy/v1', kind: 'Eviction' });
    }
    expect(h.api.get('nodes', undefined, 'node-b')!['spec']).toEqual({ unschedulable: true });
    expect(describe(view)).toMatch(
      /Escalated to on-call: remediation failed: Rebound.VerificationFailed \(still firing at the deadline/,
    );
    expect(pages(h)).toEqual([
      pdTrigger(id, {
        summary: '[WARNING] KubeNodeNotReady on node-b',
        source: 'rebound',
        severity: 'warning',
        class: 'KubeNodeNotReady',
        custom_details: {
          incident: id,
          ...escalated(
            /^remediation failed: Rebound\.VerificationFailed \(still firing at the deadline \S+: KubeNodeNotReady\{alertname="KubeNodeNotReady",severity="warning",node="node-b"\}; the remediation did not resolve the alert — roll back and escalate\)$/,
          ),
          labels: { alertname: 'KubeNodeNotReady', node: 'node-b' },
        },
      }),
    ]);
    await eventually(() => slackTexts(h!).length === 1);
    expect(slackTexts(h)).toEqual([
      ':sos: Escalated to on-call: [WARNING] KubeNodeNotReady on node-b — escalated',
    ]);
    // A failed remediation counts against the breaker; a node has no namespace, so it is the cluster's.
    expect(await breakers(h)).toEqual([
      expect.objectContaining({ scope: 'prod', outcomes: 1, successRate: 0 }),
    ]);
  });
});
