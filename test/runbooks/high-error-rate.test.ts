import { afterEach, describe as suite, expect, it } from 'vitest';
import { eventually } from '../support/http-receiver.ts';
import { seedConfigMap } from '../support/k8s-api/index.ts';
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
  pdResolve,
  pdTrigger,
  pendingApproval,
  ROUTING_KEY,
  slackTexts,
  startHarness,
  waitForStatus,
  type Harness,
} from './harness.ts';

const ERRORS = { alertname: 'CheckoutHighErrorRatio', severity: 'critical', ...CHECKOUT };

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** What reached the cluster, byte for byte what kubectl would send: the flag on, then a rollout restart. */
function expectDegradedModeThenRestart(): void {
  const writes = clusterWrites(h!);
  expect(writes).toHaveLength(2);
  expect(writes[0]).toMatchObject({
    method: 'PATCH',
    path: '/api/v1/namespaces/shop/configmaps/checkout-flags',
    contentType: 'application/merge-patch+json',
    body: { metadata: { resourceVersion: expect.any(String) }, data: { degraded_mode: 'true' } },
  });
  expect(writes[1]).toMatchObject({
    method: 'PATCH',
    path: '/apis/apps/v1/namespaces/shop/deployments/checkout',
    contentType: 'application/strategic-merge-patch+json',
    body: {
      spec: {
        template: {
          metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': expect.any(String) } },
        },
      },
    },
  });
}

/** What PagerDuty shows for the checkout error-ratio incident at this severity; `details` are the move's own. */
const errorsPage = (id: string, severity: 'critical' | 'warning', details: Record<string, unknown>) =>
  pdTrigger(id, {
    summary: `[${severity.toUpperCase()}] CheckoutHighErrorRatio on checkout`,
    source: 'checkout',
    severity,
    component: 'checkout',
    group: 'shop',
    class: 'CheckoutHighErrorRatio',
    custom_details: {
      incident: id,
      ...details,
      labels: { alertname: 'CheckoutHighErrorRatio', namespace: 'shop', service: 'checkout' },
    },
  });

suite('runbook high-error-rate', () => {
  it('enables degraded mode, restarts, verifies on the resolved webhook and resolves the incident', async () => {
    h = await startHarness();
    await alert(h, ERRORS);
    const verifying = await waitForStatus(h, 'verifying');
    const id = verifying.incident.id;

    expectDegradedModeThenRestart();

    await alert(h, ERRORS, 'resolved');
    const execution = await finishedExecution(h);
    expect(execution).toMatchObject({ workflow: 'high-error-rate', status: 'SUCCEEDED' });
    // One execution per incident open, named after the incident.
    expect(execution.name).toBe(`runbook_high-error-rate-${id}`);
    const done = await waitForStatus(h, 'resolved');

    // Critical routes to PagerDuty: paged when Rebound started, and the page resolved when it verified (by
    // the runbook, and again by the follow-up rule: a no-op for PagerDuty).
    await h.t.app.settle();
    expect(pages(h)).toEqual([
      {
        routing_key: ROUTING_KEY,
        dedup_key: id,
        event_action: 'trigger',
        payload: {
          summary: '[CRITICAL] CheckoutHighErrorRatio on checkout',
          source: 'checkout',
          severity: 'critical',
          timestamp: expect.any(String),
          component: 'checkout',
          group: 'shop',
          class: 'CheckoutHighErrorRatio',
          custom_details: {
            incident: id,
            event: 'opened',
            status: 'open',
            description: 'Rebound is running the high-error-rate runbook: CheckoutHighErrorRatio on checkout',
            labels: { alertname: 'CheckoutHighErrorRatio', namespace: 'shop', service: 'checkout' },
          },
        },
        client: 'Rebound',
      },
      { routing_key: ROUTING_KEY, dedup_key: id, event_action: 'resolve' },
      { routing_key: ROUTING_KEY, dedup_key: id, event_action: 'resolve' },
    ]);
    expect(slackTexts(h)).toEqual([]);

    const story = describe(done);
    expect(story).toMatch(/status.changed runbook:high-error-rate: Runbook high-error-rate is remediating/);
    expect(story).toMatch(/action runbook:high-error-rate: .*config.set/);
    expect(story).toMatch(/action runbook:high-error-rate: .*k8s.restart/);
    expect(story).toMatch(/status.changed runbook:high-error-rate: Acted; waiting for the alert to resolve/);
    expect(story).toMatch(/Remediated: verified: the alert resolved \(webhook\) after degraded mode/);
    expect(await breakers(h)).toEqual([
      expect.objectContaining({ scope: 'prod/shop', outcomes: 1, successRate: 1 }),
    ]);

    // The lifecycle on the bus: opened, then resolved by the runbook.
    const types = (await h.t.app.events.listEvents({ limit: 50 })).items
      .filter((e) => e.envelope.source === 'rebound.incidents')
      .map((e) => e.envelope['detail-type']);
    expect(types).toEqual(['Incident Opened', 'Incident Resolved']);
  });

  it('puts the flag back as it was: a key that was absent is removed again', async () => {
    h = await startHarness({ parameters: { verifyTimeoutSeconds: 1 } });
    seedConfigMap(h.api, 'shop', 'checkout-flags', {});
    await alert(h, ERRORS);
    expect(await finishedExecution(h)).toMatchObject({ status: 'FAILED', error: 'Rebound.Escalated' });
    await waitForStatus(h, 'escalated');
    const flagWrites = clusterWrites(h).filter((w) => w.path.endsWith('/configmaps/checkout-flags'));
    expect(flagWrites.map((w) => (w.body as { data: unknown }).data)).toEqual([
      { degraded_mode: 'true' },
      { degraded_mode: null },
    ]);
    expect(h.api.get('configmaps', 'shop', 'checkout-flags')!['data']).toEqual({});
  });

  it('leaves a flag that was already on as it was, without a compensating write', async () => {
    h = await startHarness({ parameters: { verifyTimeoutSeconds: 1 } });
    seedConfigMap(h.api, 'shop', 'checkout-flags', { degraded_mode: 'true' });
    await alert(h, ERRORS);
    expect(await finishedExecution(h)).toMatchObject({ status: 'FAILED', error: 'Rebound.Escalated' });
    const view = await waitForStatus(h, 'escalated');
    expect(clusterWrites(h).filter((w) => w.path.endsWith('/configmaps/checkout-flags'))).toEqual([]);
    expect(h.api.get('configmaps', 'shop', 'checkout-flags')!['data']).toEqual({ degraded_mode: 'true' });
    expect(describe(view)).toMatch(/Escalated to on-call: remediation failed: Rebound.VerificationFailed/);
  });

  it('rolls the flag back and escalates when the alert does not resolve in time', async () => {
    h = await startHarness({ parameters: { verifyTimeoutSeconds: 1 } });
    await alert(h, ERRORS);
    const execution = await finishedExecution(h);
    expect(execution).toMatchObject({ status: 'FAILED', error: 'Rebound.Escalated' });
    const view = await waitForStatus(h, 'escalated');
    const id = view.incident.id;

    // Compensation: the flag this runbook turned on is put back to what it was ("false").
    const flagWrites = clusterWrites(h).filter((w) => w.path.endsWith('/configmaps/checkout-flags'));
    expect(flagWrites.map((w) => (w.body as { data: unknown }).data)).toEqual([
      { degraded_mode: 'true' },
      { degraded_mode: 'false' },
    ]);
    const [, escalation] = pages(h);
    expect(escalation).toMatchObject({
      routing_key: ROUTING_KEY,
      dedup_key: id,
      event_action: 'trigger',
      payload: {
        summary: '[CRITICAL] CheckoutHighErrorRatio on checkout',
        severity: 'critical',
        custom_details: {
          incident: id,
          event: 'escalated',
          status: 'escalated',
          description: expect.stringMatching(/^remediation failed: Rebound.VerificationFailed/),
        },
      },
    });
    await eventually(() => h!.slack.requests.length === 1);
    const [message] = h.slack.jsonBodies() as {
      text: string;
      blocks: { type: string; text?: { text: string } }[];
    }[];
    expect(message!.text).toBe(
      ':sos: Escalated to on-call: [CRITICAL] CheckoutHighErrorRatio on checkout — escalated',
    );
    expect(JSON.stringify(message!.blocks)).toContain('remediation failed: Rebound.VerificationFailed');
    expect(describe(view)).toMatch(
      /status.changed runbook:high-error-rate: Escalated to on-call: remediation failed/,
    );
    expect(describe(view)).toMatch(
      /notification runbook:high-error-rate: Escalation: pagerduty delivered \(.+\); slack delivered/,
    );
    // A failed remediation counts against the circuit breaker of its namespace.
    expect(await breakers(h)).toEqual([
      expect.objectContaining({ scope: 'prod/shop', outcomes: 1, successRate: 0 }),
    ]);
  });

  it('says degraded mode is still on when putting the flag back fails too', async () => {
    h = await startHarness({ parameters: { verifyTimeoutSeconds: 1 } });
    // Degraded mode goes on; putting the flag back is forbidden (not retried: a retry cannot fix that).
    forbidPatchesAfterFirst(h, '/configmaps/checkout-flags');
    await alert(h, ERRORS);
    expect(await finishedExecution(h)).toMatchObject({ status: 'FAILED', error: 'Rebound.Escalated' });
    const view = await waitForStatus(h, 'escalated');
    const escalation = pages(h).find(
      (p) =>
        (p['payload'] as { custom_details: { event: string } } | undefined)?.custom_details.event ===
        'escalated',
    );
    expect(escalation).toMatchObject({
      payload: {
        custom_details: escalated(
          /^remediation failed: Rebound.VerificationFailed \(.+\); putting degraded_mode back to its earlier value "false" failed too \(K8s.Forbidden: .*\), so degraded mode is still on: set it back by hand/,
        ),
      },
    });
    expect(h.api.get('configmaps', 'shop', 'checkout-flags')!['data'] as Record<string, string>).toEqual(
      expect.objectContaining({ degraded_mode: 'true' }),
    );
    expect(view.incident.status).toBe('escalated');
  });

  it('escalates at once, touching nothing, when guard rails refuse', async () => {
    h = await startHarness();
    await alert(h, { ...ERRORS, namespace: 'payments', service: 'ledger', deployment: 'ledger' });
    const execution = await finishedExecution(h);
    expect(execution).toMatchObject({ status: 'FAILED', error: 'Rebound.Escalated' });
    const view = await waitForStatus(h, 'escalated');
    expect(clusterWrites(h)).toEqual([]);
    const escalation = pages(h).find(
      (p) =>
        (p['payload'] as { custom_details: { event: string } } | undefined)?.custom_details.event ===
        'escalated',
    );
    expect(escalation).toMatchObject({
      dedup_key: view.incident.id,
      event_action: 'trigger',
      payload: { custom_details: { description: expect.stringMatching(/^guard rails refused: .*payments/) } },
    });
    expect(describe(view)).toMatch(
      /guard.verdict guard: config.set on ConfigMap payments\/ledger-flags: refused by allowlist/,
    );
    // Nothing was tried, so the breaker has no outcome to count.
    expect(await breakers(h)).toEqual([]);
  });

  it('escalates without acting when the alert names no Deployment', async () => {
    h = await startHarness();
    await alert(h, { alertname: 'HighErrorRate', severity: 'page' });
    expect(await finishedExecution(h)).toMatchObject({ status: 'FAILED', error: 'Rebound.Escalated' });
    const view = await waitForStatus(h, 'escalated');
    expect(clusterWrites(h)).toEqual([]);
    expect(describe(view)).toMatch(
      /Escalated to on-call: the alert names nothing for the high-error-rate runbook to act on \(it needs namespace plus deployment or service labels\)/,
    );
  });
});

suite('runbook high-error-rate when its route requires approval', () => {
  const approvalRoute = { routes: { 'high-error-rate': { requiresApproval: true } } };

  it('pages a critical alert at once, acts once approved, verifies and resolves the page', async () => {
    h = await startHarness(approvalRoute);
    await alert(h, ERRORS);
    const approval = await pendingApproval(h);
    expect(approval).toMatchObject({
      runbook: 'high-error-rate',
      summary: 'high-error-rate: CheckoutHighErrorRatio on checkout',
      status: 'pending',
    });
    const paged = await waitForStatus(h, 'escalated');
    const id = paged.incident.id;
    // Nothing is done before a human says yes.
    expect(clusterWrites(h)).toEqual([]);
    await decide(h, approval.id, 'remediate');
    await waitForStatus(h, 'verifying');
    expectDegradedModeThenRestart();
    await alert(h, ERRORS, 'resolved');
    expect(await finishedExecution(h)).toMatchObject({ workflow: 'high-error-rate', status: 'SUCCEEDED' });
    const story = describe(await waitForStatus(h, 'resolved'));
    expect(story).toContain(`Approval ${approval.id} decided: remediate now by user:local via api`);
    expect(story).toMatch(/Remediated: verified: the alert resolved \(webhook\) after degraded mode/);
    // Everything the bus still had to deliver (the escalation follow-up rules) has been sent.
    await h.t.app.settle();
    // Paged before approval; the page is resolved when Rebound verified, and again by the escalation
    // follow-up rule, which PagerDuty takes as a no-op (docs/escalation.md).
    const reason = 'critical alert: the high-error-rate runbook needs a human to approve before it acts';
    expect(pages(h)).toEqual([errorsPage(id, 'critical', escalated(reason)), pdResolve(id), pdResolve(id)]);
    // Slack heard the escalation, then the escalations-followup.slack rule reports the resolution.
    expect(slackTexts(h)).toEqual([
      ':sos: Escalated to on-call: [CRITICAL] CheckoutHighErrorRatio on checkout — escalated',
      ':white_check_mark: Resolved: [CRITICAL] CheckoutHighErrorRatio on checkout — resolved',
    ]);
    expect(await breakers(h)).toEqual([
      expect.objectContaining({ scope: 'prod/shop', outcomes: 1, successRate: 1 }),
    ]);
  });

  it('escalates a warning, acting on nothing, when nobody approves in time', async () => {
    h = await startHarness(approvalRoute);
    await alert(h, { ...ERRORS, severity: 'warning' });
    const approval = await pendingApproval(h);
    // A warning is not paged before approval: the incident stays open while it waits.
    expect((await onlyIncident(h)).incident.status).toBe('open');
    expect(pages(h)).toEqual([]);
    await expireApprovals(h);
    expect(await finishedExecution(h)).toMatchObject({ status: 'FAILED', error: 'Rebound.Escalated' });
    const view = await waitForStatus(h, 'escalated');
    const id = view.incident.id;
    expect(clusterWrites(h)).toEqual([]);
    const reason =
      `nobody approved the high-error-rate runbook in time (Approval ${approval.id} ` +
      `(high-error-rate: CheckoutHighErrorRatio on checkout) got no decision by ${approval.expiresAt}); escalating as configured`;
    expect(describe(view)).toContain(
      `status.changed runbook:high-error-rate: Escalated to on-call: ${reason}`,
    );
    expect(pages(h)).toEqual([errorsPage(id, 'warning', escalated(reason))]);
    await eventually(() => h!.slack.requests.length === 1);
    expect(slackTexts(h)).toEqual([
      ':sos: Escalated to on-call: [WARNING] CheckoutHighErrorRatio on checkout — escalated',
    ]);
    // Nothing was tried: no outcome for the circuit breaker.
    expect(await breakers(h)).toEqual([]);
  });
});
