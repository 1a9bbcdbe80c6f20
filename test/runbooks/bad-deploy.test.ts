import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe as suite, expect, it } from 'vitest';
import { requireTool, run } from '../deploy/tools.ts';
import { tempDir } from '../support/app.ts';
import { eventually } from '../support/http-receiver.ts';
import { setImage } from '../support/k8s-api/index.ts';
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
  pages,
  pdResolve,
  pdTrigger,
  pendingApproval,
  slackTexts,
  startHarness,
  waitForStatus,
  type Harness,
} from './harness.ts';

const CRASH = {
  alertname: 'CheckoutCrashLooping',
  severity: 'critical',
  pod: 'checkout-7d9f8-abcde',
  ...CHECKOUT,
};

/** The runbook's "did the Deployment change recently?" question, as it reaches Prometheus (window 1800 s). */
const CHANGED_RECENTLY =
  'max(changes(kube_deployment_status_observed_generation{namespace="shop",deployment="checkout"}[1800s]))';

/** What PagerDuty shows for the crash-loop incident; `details` are the move's own fields. */
const crashPage = (id: string, details: Record<string, unknown>) =>
  pdTrigger(id, {
    summary: '[CRITICAL] CheckoutCrashLooping on checkout',
    source: 'checkout',
    severity: 'critical',
    component: 'checkout',
    group: 'shop',
    class: 'CheckoutCrashLooping',
    custom_details: {
      incident: id,
      ...details,
      labels: { alertname: 'CheckoutCrashLooping', namespace: 'shop', service: 'checkout' },
    },
  });

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A bad deploy: a new image becomes revision 2 and its pods crash. */
async function badDeploy(): Promise<void> {
  setImage(h!.api, 'shop', 'checkout', 'checkout:2-broken');
  await eventually(
    () => h!.api.list('replicasets').filter((r) => r.metadata.namespace === 'shop').length === 2,
  );
}

/** The cluster got exactly one write, `kubectl rollout undo` to revision 1, and the Deployment runs it. */
function expectOnlyTheRollback(): void {
  const [rollback, ...rest] = clusterWrites(h!);
  expect(rest).toEqual([]);
  expect(rollback).toMatchObject({
    method: 'PATCH',
    path: '/apis/apps/v1/namespaces/shop/deployments/checkout',
    contentType: 'application/json-patch+json',
    body: [
      {
        op: 'replace',
        path: '/spec/template',
        value: { spec: { containers: [expect.objectContaining({ image: 'checkout:1' })] } },
      },
      { op: 'replace', path: '/metadata/annotations', value: expect.any(Object) },
    ],
  });
  expect(h!.api.get('deployments', 'shop', 'checkout')!['spec']).toMatchObject({
    template: { spec: { containers: [{ image: 'checkout:1' }] } },
  });
}

suite('runbook bad-deploy', () => {
  it('rolls back to the previous revision, verifies and resolves', async () => {
    h = await startHarness();
    await badDeploy();
    await alert(h, CRASH);
    await waitForStatus(h, 'verifying');
    expectOnlyTheRollback();
    await alert(h, CRASH, 'resolved');
    expect(await finishedExecution(h)).toMatchObject({ workflow: 'bad-deploy', status: 'SUCCEEDED' });
    const view = await waitForStatus(h, 'resolved');
    const story = describe(view);
    // Without Prometheus Rebound cannot tell whether the Deployment changed recently, and says so.
    expect(story).toMatch(
      /Could not tell whether the Deployment changed recently \(verify.query needs verify.prometheus.url/,
    );
    expect(story).toMatch(/after rolling back from revision 2 to 1/);
    expect(pages(h).map((p) => p['event_action'])).toEqual(['trigger', 'resolve']);
  });

  it('escalates after its retry when there is no revision to roll back to', async () => {
    h = await startHarness();
    await alert(h, CRASH);
    expect(await finishedExecution(h)).toMatchObject({ status: 'FAILED', error: 'Rebound.Escalated' });
    const view = await waitForStatus(h, 'escalated');
    expect(clusterWrites(h)).toEqual([]);
    expect(describe(view)).toMatch(
      /Escalated to on-call: remediation failed: K8sActionError \(.*no rollout history/i,
    );
    expect(pages(h).at(-1)).toMatchObject({
      event_action: 'trigger',
      dedup_key: view.incident.id,
      payload: { custom_details: { event: 'escalated' } },
    });
  });

  it('rolls back when Prometheus says the Deployment changed recently, and verifies through Prometheus', async () => {
    h = await startHarness({ prometheus: true });
    h.prometheus.answer(CHANGED_RECENTLY, [{ value: 1 }]).fire(CRASH);
    await badDeploy();
    await alert(h, CRASH);
    const verifying = await waitForStatus(h, 'verifying');
    const id = verifying.incident.id;
    expectOnlyTheRollback();
    // The question was asked exactly as the runbook words it, before anything was written.
    expect(h.prometheus.queries()[0]).toBe(CHANGED_RECENTLY);

    // No resolved webhook: Prometheus' ALERTS going empty is what verifies.
    h.prometheus.resolve(CRASH);
    expect(await finishedExecution(h)).toMatchObject({ workflow: 'bad-deploy', status: 'SUCCEEDED' });
    const story = describe(await waitForStatus(h, 'resolved'));
    expect(story).not.toMatch(/Could not tell/);
    expect(story).toMatch(
      /Remediated: verified: the alert resolved \(prometheus\) after rolling back from revision 2 to 1/,
    );
    expect(h.prometheus.queries()).toContain('ALERTS{alertname="CheckoutCrashLooping",alertstate="firing"}');
    expect(pages(h)).toEqual([
      crashPage(id, {
        event: 'opened',
        status: 'open',
        description: 'Rebound is running the bad-deploy runbook: CheckoutCrashLooping on checkout',
      }),
      pdResolve(id),
    ]);
    expect(await breakers(h)).toEqual([
      expect.objectContaining({ scope: 'prod/shop', outcomes: 1, successRate: 1 }),
    ]);
  });

  it('escalates without rolling back when Prometheus says the Deployment did not change in the window', async () => {
    h = await startHarness({ prometheus: true });
    h.prometheus.answer(CHANGED_RECENTLY, [{ value: 0 }]).fire(CRASH);
    // A previous revision exists, so only the runbook's judgement keeps it from rolling back.
    await badDeploy();
    await alert(h, CRASH);
    expect(await finishedExecution(h)).toMatchObject({ status: 'FAILED', error: 'Rebound.Escalated' });
    const view = await waitForStatus(h, 'escalated');
    const id = view.incident.id;
    expect(clusterWrites(h)).toEqual([]);
    expect(h.prometheus.queries()).toEqual([CHANGED_RECENTLY]);
    const reason = 'the Deployment did not change in the last 1800 s, so a rollback would not help';
    expect(describe(view)).toContain(`Escalated to on-call: ${reason}`);
    expect(pages(h)).toEqual([
      crashPage(id, {
        event: 'opened',
        status: 'open',
        description: 'Rebound is running the bad-deploy runbook: CheckoutCrashLooping on checkout',
      }),
      crashPage(id, escalated(reason)),
    ]);
    await eventually(() => h!.slack.requests.length === 1);
    expect(slackTexts(h)).toEqual([
      ':sos: Escalated to on-call: [CRITICAL] CheckoutCrashLooping on checkout — escalated',
    ]);
    // Nothing was tried: no outcome for the circuit breaker.
    expect(await breakers(h)).toEqual([]);
  });

  it('treats a missing kube-state-metrics series as a change and rolls back', async () => {
    h = await startHarness({ prometheus: true });
    h.prometheus.answer(CHANGED_RECENTLY, []).fire(CRASH);
    await badDeploy();
    await alert(h, CRASH);
    await waitForStatus(h, 'verifying');
    expectOnlyTheRollback();
    await alert(h, CRASH, 'resolved');
    expect(await finishedExecution(h)).toMatchObject({ status: 'SUCCEEDED' });
    expect(describe(await waitForStatus(h, 'resolved'))).toMatch(
      /verified: the alert resolved \(webhook\) after rolling back from revision 2 to 1/,
    );
  });

  it('rolls back anyway, saying so, when Prometheus cannot answer', async () => {
    h = await startHarness({ prometheus: true });
    h.prometheus
      .answer(CHANGED_RECENTLY, {
        status: 503,
        errorType: 'timeout',
        error: 'query timed out in expression evaluation',
      })
      .fire(CRASH);
    await badDeploy();
    await alert(h, CRASH);
    const view = await waitForStatus(h, 'verifying');
    expectOnlyTheRollback();
    expect(describe(view)).toMatch(
      /Could not tell whether the Deployment changed recently \(.*Prometheus timeout \(HTTP 503\): query timed out in expression evaluation.*\); rolling back/,
    );
  });

  it('keeps the rollback and escalates when the alert still fires after it', async () => {
    h = await startHarness({ prometheus: true, parameters: { verifyTimeoutSeconds: 1 } });
    h.prometheus.answer(CHANGED_RECENTLY, [{ value: 2 }]).fire(CRASH);
    await badDeploy();
    await alert(h, CRASH);
    expect(await finishedExecution(h)).toMatchObject({ status: 'FAILED', error: 'Rebound.Escalated' });
    const view = await waitForStatus(h, 'escalated');
    const id = view.incident.id;
    // The rollback is the compensation of a bad deploy: it is not undone (docs/escalation.md#rollback-compensation).
    expectOnlyTheRollback();
    expect(pages(h)).toEqual([
      crashPage(id, {
        event: 'opened',
        status: 'open',
        description: 'Rebound is running the bad-deploy runbook: CheckoutCrashLooping on checkout',
      }),
      crashPage(
        id,
        escalated(
          /^remediation failed: Rebound\.VerificationFailed \(still firing at the deadline \S+: CheckoutCrashLooping\{.*\} \(last check: prometheus firing: 1 firing series of ALERTS\{alertname="CheckoutCrashLooping",alertstate="firing"\} agree with the alert's labels\); the remediation did not resolve the alert — roll back and escalate\)$/,
        ),
      ),
    ]);
    await eventually(() => h!.slack.requests.length === 1);
    expect(slackTexts(h)).toEqual([
      ':sos: Escalated to on-call: [CRITICAL] CheckoutCrashLooping on checkout — escalated',
    ]);
    expect(describe(view)).toMatch(/Escalated to on-call: remediation failed: Rebound.VerificationFailed/);
    expect(await breakers(h)).toEqual([
      expect.objectContaining({ scope: 'prod/shop', outcomes: 1, successRate: 0 }),
    ]);
  });

  it('escalates, touching nothing, when guard rails refuse (a deploy freeze pauses the namespace)', async () => {
    h = await startHarness();
    await badDeploy();
    const paused = await h.t.app.http.inject({
      method: 'POST',
      url: '/v1/automation/pause',
      payload: { match: { namespace: 'shop' }, reason: 'deploy freeze' },
    });
    expect(paused.statusCode).toBe(201);
    await alert(h, CRASH);
    expect(await finishedExecution(h)).toMatchObject({ status: 'FAILED', error: 'Rebound.Escalated' });
    const view = await waitForStatus(h, 'escalated');
    const id = view.incident.id;
    expect(clusterWrites(h)).toEqual([]);
    expect(h.api.get('deployments', 'shop', 'checkout')!['spec']).toMatchObject({
      template: { spec: { containers: [{ image: 'checkout:2-broken' }] } },
    });
    expect(describe(view)).toMatch(
      /guard.verdict guard: k8s.rollback on Deployment shop\/checkout: refused by pause/,
    );
    expect(pages(h)).toEqual([
      crashPage(id, {
        event: 'opened',
        status: 'open',
        description: 'Rebound is running the bad-deploy runbook: CheckoutCrashLooping on checkout',
      }),
      crashPage(
        id,
        escalated(
          /^guard rails refused: automation paused by pause \S+ \[namespace=shop\] until resumed \(deploy freeze\); notify instead, or `rebound automation resume`$/,
        ),
      ),
    ]);
    expect(await breakers(h)).toEqual([]);
  });
});

suite('runbook bad-deploy when its route requires approval', () => {
  const approvalRoute = { routes: { 'bad-deploy': { requiresApproval: true } } };
  const pagedBeforeApproval = (id: string) =>
    crashPage(
      id,
      escalated('critical alert: the bad-deploy runbook needs a human to approve before it acts'),
    );

  it('pages at once, rolls back once approved, verifies and resolves the page', async () => {
    h = await startHarness(approvalRoute);
    await badDeploy();
    await alert(h, CRASH);
    const approval = await pendingApproval(h);
    expect(approval).toMatchObject({
      runbook: 'bad-deploy',
      summary: 'bad-deploy: CheckoutCrashLooping on checkout',
      status: 'pending',
    });
    const paged = await waitForStatus(h, 'escalated');
    const id = paged.incident.id;
    expect(approval.incidentId).toBe(id);
    expect(clusterWrites(h)).toEqual([]);
    await decide(h, approval.id, 'remediate');
    await waitForStatus(h, 'verifying');
    expectOnlyTheRollback();
    await alert(h, CRASH, 'resolved');
    expect(await finishedExecution(h)).toMatchObject({ workflow: 'bad-deploy', status: 'SUCCEEDED' });
    const story = describe(await waitForStatus(h, 'resolved'));
    expect(story).toContain(`Approval ${approval.id} decided: remediate now by user:local via api`);
    expect(story).toMatch(/Runbook bad-deploy is remediating: roll back to the previous revision/);
    expect(story).toMatch(
      /Remediated: verified: the alert resolved \(webhook\) after rolling back from revision 2 to 1/,
    );
    await h.t.app.settle();
    // Paged before approval (no separate "Rebound is on it"); resolved when verified, and again (a no-op for
    // PagerDuty) by the escalation follow-up rule.
    expect(pages(h)).toEqual([pagedBeforeApproval(id), pdResolve(id), pdResolve(id)]);
    expect(slackTexts(h)).toEqual([
      ':sos: Escalated to on-call: [CRITICAL] CheckoutCrashLooping on checkout — escalated',
      ':white_check_mark: Resolved: [CRITICAL] CheckoutCrashLooping on checkout — resolved',
    ]);
  });

  it('escalates, acting on nothing, when nobody approves in time', async () => {
    h = await startHarness(approvalRoute);
    await badDeploy();
    await alert(h, CRASH);
    const approval = await pendingApproval(h);
    await waitForStatus(h, 'escalated');
    await expireApprovals(h);
    expect(await finishedExecution(h)).toMatchObject({ status: 'FAILED', error: 'Rebound.Escalated' });
    const view = await waitForStatus(h, 'escalated');
    const id = view.incident.id;
    expect(clusterWrites(h)).toEqual([]);
    const reason =
      `nobody approved the bad-deploy runbook in time (Approval ${approval.id} ` +
      `(bad-deploy: CheckoutCrashLooping on checkout) got no decision by ${approval.expiresAt}); escalating as configured`;
    expect(pages(h)).toEqual([pagedBeforeApproval(id), crashPage(id, escalated(reason))]);
    const story = describe(view);
    expect(story).toContain(
      `Approval ${approval.id} expired: no decision within 900s; the runbook gets Approval.TimedOut (default: escalate)`,
    );
    expect(story.match(/Escalation: pagerduty delivered \(.+\); slack delivered/g)).toHaveLength(2);
    expect(await breakers(h)).toEqual([]);
  });
});

// The scripted answers above (1, 0, no series) are what real PromQL gives for these generation histories.
const promtool = requireTool('promtool');

suite.skipIf(!promtool)('the changed-recently question under real PromQL (promtool test rules)', () => {
  it('is above 0 only for a new generation inside the 1800 s window, and empty without the series', async () => {
    const series = (deployment: string, values: string) =>
      `      - series: ${JSON.stringify(`kube_deployment_status_observed_generation{namespace="shop",deployment="${deployment}",job="kube-state-metrics"}`)}\n        values: ${JSON.stringify(values)}\n`;
    const expect1800 = (deployment: string, samples: string) =>
      `      - expr: ${JSON.stringify(CHANGED_RECENTLY.replace('deployment="checkout"', `deployment="${deployment}"`))}\n        eval_time: 60m\n        exp_samples: ${samples}\n`;
    const dir = tempDir('rebound-changed-recently-');
    try {
      const file = join(dir.path, 'changed-recently.test.yml');
      await writeFile(
        file,
        'rule_files: []\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n' +
          // checkout: generation 1 for 50 minutes, then 2 (a deploy 10 minutes ago).
          series('checkout', '1x50 2x10') +
          // cart: a deploy 45 minutes ago, outside the window; steady since.
          series('cart', '1x15 2x45') +
          '    promql_expr_test:\n' +
          expect1800('checkout', "[{labels: '{}', value: 1}]") +
          expect1800('cart', "[{labels: '{}', value: 0}]") +
          expect1800('absent', '[]'),
      );
      const result = await run(promtool!, ['test', 'rules', file]);
      expect(result.stdout + result.stderr).toContain('SUCCESS');
      expect(result.code).toBe(0);
    } finally {
      dir.remove();
    }
  });
});
