import { afterEach, describe as suite, expect, it } from 'vitest';
import { eventually } from '../support/http-receiver.ts';
import {
  alert,
  breakers,
  CHECKOUT,
  clusterWrites,
  decide,
  describe,
  escalated,
  expireApprovals,
  finishedExecution,
  forbidPatchesAfterFirst,
  onlyIncident,
  pages,
  pdTrigger,
  pendingApproval,
  slackTexts,
  startHarness,
  waitForStatus,
  type Harness,
} from './harness.ts';

const LATENCY = { alertname: 'CheckoutHighLatencyP95', severity: 'warning', ...CHECKOUT };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const scalePatches = () =>
  clusterWrites(h!)
    .filter((w) => w.path.endsWith('/deployments/checkout/scale'))
    .map((w) => ({ contentType: w.contentType, body: w.body }));

/** What PagerDuty shows for a latency incident on this Deployment; `details` are the move's own fields. */
const latencyPage = (
  id: string,
  target: { namespace: string; service: string },
  details: Record<string, unknown>,
) =>
  pdTrigger(id, {
    summary: `[WARNING] CheckoutHighLatencyP95 on ${target.service}`,
    source: target.service,
    severity: 'warning',
    component: target.service,
    group: target.namespace,
    class: 'CheckoutHighLatencyP95',
    custom_details: {
      incident: id,
      ...details,
      labels: { alertname: 'CheckoutHighLatencyP95', ...target },
    },
  });

suite('runbook high-latency', () => {
  it('scales out by a step, verifies, tells Slack, and scales back after the quiet period', async () => {
    h = await startHarness({ parameters: { scaleStep: 2 } });
    await alert(h, LATENCY);
    await waitForStatus(h, 'verifying');
    expect(scalePatches()).toEqual([
      { contentType: 'application/merge-patch+json', body: { spec: { replicas: 4 } } },
    ]);
    await alert(h, LATENCY, 'resolved');
    const execution = await finishedExecution(h);
    expect(execution).toMatchObject({ workflow: 'high-latency', status: 'SUCCEEDED' });
    const view = await waitForStatus(h, 'resolved');
    // Warning routes to Slack: the opening and the remediation, nobody paged.
    expect(pages(h)).toEqual([]);
    expect(slackTexts(h)).toEqual([
      ':rotating_light: Incident opened: [WARNING] CheckoutHighLatencyP95 on checkout — open',
      ':hammer_and_wrench: Remediated: [WARNING] CheckoutHighLatencyP95 on checkout — resolved',
    ]);
    const story = describe(view);
    expect(story).toMatch(/after scaling out from 2 to 4 replicas; back to 2 after a quiet period of 0 s/);
    // Scaling back runs after the incident resolved: the firing-only rail lets an execution put back what it
    // changed itself, and says why on the timeline.
    expect(story).toMatch(/Quiet period over: scaled back from 4 to 2 replicas/);
    expect(story).toMatch(
      /has resolved, but execution high-latency:\S+ changed \S*checkout earlier and may put it back/,
    );
    expect(scalePatches()).toEqual([
      { contentType: 'application/merge-patch+json', body: { spec: { replicas: 4 } } },
      { contentType: 'application/merge-patch+json', body: { spec: { replicas: 2 } } },
    ]);
  });

  it('escalates without acting when the Deployment is already at its upper bound', async () => {
    h = await startHarness();
    h.api.put('deployments', {
      ...h.api.get('deployments', 'shop', 'checkout')!,
      spec: { ...(h.api.get('deployments', 'shop', 'checkout')!['spec'] as object), replicas: 20 },
    });
    await alert(h, LATENCY);
    const execution = await finishedExecution(h);
    expect(execution).toMatchObject({ status: 'FAILED', error: 'Rebound.Escalated' });
    const view = await waitForStatus(h, 'escalated');
    expect(scalePatches()).toEqual([]);
    expect(describe(view)).toMatch(/cannot scale out: already at 20 replicas, the upper bound/);
    await eventually(() => slackTexts(h!).length === 2);
    expect(slackTexts(h)[1]).toMatch(/^:sos: Escalated to on-call: \[WARNING\]/);
    expect(pages(h)).toMatchObject([{ event_action: 'trigger', dedup_key: view.incident.id }]);
  });

  it('scales back to where it was and escalates when the alert keeps firing', async () => {
    h = await startHarness({ parameters: { verifyTimeoutSeconds: 1 } });
    await alert(h, LATENCY);
    const execution = await finishedExecution(h);
    expect(execution).toMatchObject({ status: 'FAILED', error: 'Rebound.Escalated' });
    await waitForStatus(h, 'escalated');
    expect(scalePatches().map((p) => p.body)).toEqual([{ spec: { replicas: 4 } }, { spec: { replicas: 2 } }]);
  });

  it('says the extra replicas are still there when scaling back fails too', async () => {
    h = await startHarness({ parameters: { verifyTimeoutSeconds: 1 } });
    // Scaling out goes through; scaling back is forbidden, which no retry can fix: tried once.
    forbidPatchesAfterFirst(h, '/scale');
    await alert(h, LATENCY);
    expect(await finishedExecution(h)).toMatchObject({ status: 'FAILED', error: 'Rebound.Escalated' });
    await waitForStatus(h, 'escalated');
    expect(pages(h)).toMatchObject([
      {
        event_action: 'trigger',
        payload: {
          custom_details: escalated(
            /^remediation failed: Rebound.VerificationFailed \(.+\); scaling back to 2 replicas failed too \(K8s.Forbidden: .*\): scale in by hand/,
          ),
        },
      },
    ]);
    expect(scalePatches().map((p) => p.body)).toEqual([{ spec: { replicas: 4 } }, { spec: { replicas: 2 } }]);
  });

  it('only tells Slack when the severity is routed to notification only', async () => {
    h = await startHarness();
    await alert(h, { ...LATENCY, severity: 'info' });
    const execution = await finishedExecution(h);
    expect(execution).toMatchObject({ status: 'SUCCEEDED' });
    expect(clusterWrites(h)).toEqual([]);
    expect(pages(h)).toEqual([]);
    expect(slackTexts(h)).toEqual([
      ':rotating_light: Incident opened: [INFO] CheckoutHighLatencyP95 on checkout — open',
    ]);
    const view = await waitForStatus(h, 'open');
    expect(describe(view)).toMatch(/Severity info is routed to notification only/);
  });

  it('escalates at once, scaling nothing, when guard rails refuse', async () => {
    h = await startHarness();
    const ledger = { namespace: 'payments', service: 'ledger' };
    await alert(h, { ...LATENCY, ...ledger, deployment: 'ledger' });
    expect(await finishedExecution(h)).toMatchObject({ status: 'FAILED', error: 'Rebound.Escalated' });
    const view = await waitForStatus(h, 'escalated');
    const id = view.incident.id;
    expect(clusterWrites(h)).toEqual([]);
    expect(h.api.get('deployments', 'payments', 'ledger')!['spec']).toMatchObject({ replicas: 2 });
    expect(describe(view)).toMatch(
      /guard.verdict guard: k8s.scale on Deployment payments\/ledger: refused by allowlist/,
    );
    expect(pages(h)).toEqual([
      latencyPage(
        id,
        ledger,
        escalated(
          'guard rails refused: namespace "payments" is not in guard.allowlist.namespaces (shop); add it to allow automation there',
        ),
      ),
    ]);
    await eventually(() => slackTexts(h!).length === 2);
    expect(slackTexts(h)).toEqual([
      ':rotating_light: Incident opened: [WARNING] CheckoutHighLatencyP95 on ledger — open',
      ':sos: Escalated to on-call: [WARNING] CheckoutHighLatencyP95 on ledger — escalated',
    ]);
    // Nothing was tried, so the breaker has no outcome to count.
    expect(await breakers(h)).toEqual([]);
  });
});

suite('runbook high-latency when its route requires approval', () => {
  const approvalRoute = { routes: { 'high-latency': { requiresApproval: true } } };

  it('waits for approval, then scales out, verifies and scales back', async () => {
    h = await startHarness(approvalRoute);
    await alert(h, LATENCY);
    const approval = await pendingApproval(h);
    expect(approval).toMatchObject({
      runbook: 'high-latency',
      summary: 'high-latency: CheckoutHighLatencyP95 on checkout',
      status: 'pending',
    });
    // A warning is not paged or announced before approval, and nothing is scaled.
    expect((await onlyIncident(h)).incident.status).toBe('open');
    expect(scalePatches()).toEqual([]);
    await decide(h, approval.id, 'remediate');
    await waitForStatus(h, 'verifying');
    expect(scalePatches()).toEqual([
      { contentType: 'application/merge-patch+json', body: { spec: { replicas: 4 } } },
    ]);
    await alert(h, LATENCY, 'resolved');
    expect(await finishedExecution(h)).toMatchObject({ workflow: 'high-latency', status: 'SUCCEEDED' });
    const story = describe(await waitForStatus(h, 'resolved'));
    expect(story).toContain(`Approval ${approval.id} decided: remediate now by user:local via api`);
    expect(story).toMatch(/Quiet period over: scaled back from 4 to 2 replicas/);
    expect(scalePatches().map((p) => p.body)).toEqual([{ spec: { replicas: 4 } }, { spec: { replicas: 2 } }]);
    expect(pages(h)).toEqual([]);
    expect(slackTexts(h)).toEqual([
      ':hammer_and_wrench: Remediated: [WARNING] CheckoutHighLatencyP95 on checkout — resolved',
    ]);
    expect(await breakers(h)).toEqual([
      expect.objectContaining({ scope: 'prod/shop', outcomes: 1, successRate: 1 }),
    ]);
  });

  it('escalates, scaling nothing, when nobody approves in time', async () => {
    h = await startHarness(approvalRoute);
    await alert(h, LATENCY);
    const approval = await pendingApproval(h);
    await expireApprovals(h);
    expect(await finishedExecution(h)).toMatchObject({ status: 'FAILED', error: 'Rebound.Escalated' });
    const view = await waitForStatus(h, 'escalated');
    const id = view.incident.id;
    expect(clusterWrites(h)).toEqual([]);
    const reason =
      `nobody approved the high-latency runbook in time (Approval ${approval.id} ` +
      `(high-latency: CheckoutHighLatencyP95 on checkout) got no decision by ${approval.expiresAt}); escalating as configured`;
    expect(describe(view)).toContain(`status.changed runbook:high-latency: Escalated to on-call: ${reason}`);
    expect(pages(h)).toEqual([
      latencyPage(id, { namespace: 'shop', service: 'checkout' }, escalated(reason)),
    ]);
    await eventually(() => slackTexts(h!).length === 1);
    expect(slackTexts(h)).toEqual([
      ':sos: Escalated to on-call: [WARNING] CheckoutHighLatencyP95 on checkout — escalated',
    ]);
    expect(await breakers(h)).toEqual([]);
  });
});
