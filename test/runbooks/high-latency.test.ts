import { afterEach, describe as suite, expect, it } from 'vitest';
import { eventually } from '../support/http-receiver.ts';
import {
  alert,
  CHECKOUT,
  clusterWrites,
  describe,
  finishedExecution,
  pages,
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
});
