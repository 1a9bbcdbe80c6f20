import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe as suite, expect, it } from 'vitest';
import { evaluateIntrinsic } from '../../src/workflows/intrinsics.ts';
import { requireTool, run } from '../deploy/tools.ts';
import { tempDir } from '../support/app.ts';
import { eventually } from '../support/http-receiver.ts';
import { KubeApiDouble, kubeStateMetrics, seedDeployment, setImage } from '../support/k8s-api/index.ts';
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
  RUNBOOKS_DIR,
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

/**
 * The runbook's "did the Deployment roll out a new pod template recently?" question, as it reaches Prometheus:
 * the age in seconds of the Deployment's newest ReplicaSet, which the runbook compares with `< 1800`.
 */
const CHANGED_RECENTLY =
  'time() - max(kube_replicaset_created{namespace="shop"} * on (namespace, replicaset) group_left () ' +
  'max by (namespace, replicaset) (kube_replicaset_owner{namespace="shop",owner_kind="Deployment",' +
  'owner_name="checkout",owner_is_controller="true"}))';
const NO_RECENT_CHANGE =
  'the pod template of the Deployment did not change in the last 1800 s (no new ReplicaSet), so a rollback would not help';

/** The query the shipped runbook builds for a target, evaluated by the workflow engine's own intrinsics. */
function changedRecentlyQuery(namespace: string, name: string): string {
  const definition = JSON.parse(readFileSync(join(RUNBOOKS_DIR, 'bad-deploy.asl.json'), 'utf8')) as {
    States: { ChangedRecently: { Parameters: { 'query.$': string } } };
  };
  const scope = {
    data: { target: { namespace, name } },
    context: {},
    variable: () => undefined,
    random: Math.random,
  };
  return evaluateIntrinsic(definition.States.ChangedRecently.Parameters['query.$'], scope) as string;
}

/**
 * What the changed-recently query computes, worked out from the kube-state-metrics text the Kubernetes double
 * exports (the same PromQL runs under promtool at the end of this file): the age of the newest ReplicaSet a
 * Deployment controls, or undefined without one.
 */
function newestReplicaSetAge(metrics: string, namespace: string, deployment: string, now: Date) {
  const series = metrics.split('\n').flatMap((line) => {
    const m = /^(\w+)\{(.*)\} (\S+)$/.exec(line);
    if (!m) return [];
    const labels = new Map([...m[2]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
    return [{ name: m[1]!, labels, value: Number(m[3]) }];
  });
  const owned = new Set(
    series
      .filter(
        (s) =>
          s.name === 'kube_replicaset_owner' &&
          s.labels.get('namespace') === namespace &&
          s.labels.get('owner_kind') === 'Deployment' &&
          s.labels.get('owner_name') === deployment &&
          s.labels.get('owner_is_controller') === 'true',
      )
      .map((s) => s.labels.get('replicaset')),
  );
  const created = series
    .filter(
      (s) =>
        s.name === 'kube_replicaset_created' &&
        s.labels.get('namespace') === namespace &&
        owned.has(s.labels.get('replicaset')),
    )
    .map((s) => s.value);
  return created.length === 0 ? undefined : now.getTime() / 1000 - Math.max(...created);
}

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
    await h.t.app.settle();
    // The runbook resolves its page, and the follow-up rule again (PagerDuty takes the second as a no-op).
    expect(pages(h).map((p) => p['event_action'])).toEqual(['trigger', 'resolve', 'resolve']);
  });

  it('escalates at once when there is no revision to roll back to (not a failure a retry can fix)', async () => {
    h = await startHarness();
    await alert(h, CRASH);
    expect(await finishedExecution(h)).toMatchObject({ status: 'FAILED', error: 'Rebound.Escalated' });
    const view = await waitForStatus(h, 'escalated');
    expect(clusterWrites(h)).toEqual([]);
    expect(describe(view)).toMatch(
      /Escalated to on-call: remediation failed: K8s.NoHistory \(.*no rollout history/i,
    );
    expect(pages(h).at(-1)).toMatchObject({
      event_action: 'trigger',
      dedup_key: view.incident.id,
      payload: { custom_details: { event: 'escalated' } },
    });
  });

  it('rolls back when Prometheus says the Deployment changed recently, and verifies through Prometheus', async () => {
    h = await startHarness({ prometheus: true });
    // The newest ReplicaSet is 10 minutes old.
    h.prometheus.answer(CHANGED_RECENTLY, [{ value: 600 }]).fire(CRASH);
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
    await h.t.app.settle();
    expect(pages(h)).toEqual([
      crashPage(id, {
        event: 'opened',
        status: 'open',
        description: 'Rebound is running the bad-deploy runbook: CheckoutCrashLooping on checkout',
      }),
      pdResolve(id),
      pdResolve(id), // the follow-up rule's: a no-op for PagerDuty
    ]);
    expect(await breakers(h)).toEqual([
      expect.objectContaining({ scope: 'prod/shop', outcomes: 1, successRate: 1 }),
    ]);
  });

  it('escalates without rolling back when Prometheus says the Deployment did not change in the window', async () => {
    h = await startHarness({ prometheus: true });
    // The newest ReplicaSet, the one the last template change made, is 45 minutes old.
    h.prometheus.answer(CHANGED_RECENTLY, [{ value: 2700 }]).fire(CRASH);
    // A previous revision exists, so only the runbook's judgement keeps it from rolling back.
    await badDeploy();
    await alert(h, CRASH);
    expect(await finishedExecution(h)).toMatchObject({ status: 'FAILED', error: 'Rebound.Escalated' });
    const view = await waitForStatus(h, 'escalated');
    const id = view.incident.id;
    expect(clusterWrites(h)).toEqual([]);
    expect(h.prometheus.queries()).toEqual([CHANGED_RECENTLY]);
    expect(describe(view)).toContain(`Escalated to on-call: ${NO_RECENT_CHANGE}`);
    expect(pages(h)).toEqual([
      crashPage(id, {
        event: 'opened',
        status: 'open',
        description: 'Rebound is running the bad-deploy runbook: CheckoutCrashLooping on checkout',
      }),
      crashPage(id, escalated(NO_RECENT_CHANGE)),
    ]);
    await eventually(() => h!.slack.requests.length === 1);
    expect(slackTexts(h)).toEqual([
      ':sos: Escalated to on-call: [CRITICAL] CheckoutCrashLooping on checkout — escalated',
    ]);
    // Nothing was tried: no outcome for the circuit breaker.
    expect(await breakers(h)).toEqual([]);
  });

  it('does not count a scale-out as a change: a weeks-old image change is not rolled back', async () => {
    const DAY_MS = 86_400_000;
    let clusterOffsetMs = -30 * DAY_MS;
    h = await startHarness({ prometheus: true, clusterNow: () => new Date(Date.now() + clusterOffsetMs) });
    // Revision 2 (a new image, so a new ReplicaSet) shipped 29 days ago...
    clusterOffsetMs = -29 * DAY_MS;
    setImage(h.api, 'shop', 'checkout', 'checkout:2');
    clusterOffsetMs = 0;
    // ...and an HPA scaled the Deployment out just now: a new generation, observed at once, but no ReplicaSet.
    const before = h.api.get('deployments', 'shop', 'checkout')!;
    h.api.put('deployments', { ...before, spec: { ...(before['spec'] as object), replicas: 4 } });
    const scaled = h.api.get('deployments', 'shop', 'checkout')!;
    expect(scaled.metadata.generation).toBe(before.metadata.generation! + 1);
    expect(scaled['status']).toMatchObject({ observedGeneration: scaled.metadata.generation });
    expect(h.api.list('replicasets', 'shop')).toHaveLength(2);
    // Prometheus answers what the question computes over the series the double exports.
    const age = newestReplicaSetAge(kubeStateMetrics(h.api, undefined), 'shop', 'checkout', new Date());
    expect(age).toBeGreaterThan(29 * 86_400 - 60);
    h.prometheus.answer(CHANGED_RECENTLY, [{ value: age! }]).fire(CRASH);
    await alert(h, CRASH);
    expect(await finishedExecution(h)).toMatchObject({ status: 'FAILED', error: 'Rebound.Escalated' });
    const view = await waitForStatus(h, 'escalated');
    expect(clusterWrites(h)).toEqual([]);
    expect(h.prometheus.queries()).toEqual([CHANGED_RECENTLY]);
    expect(describe(view)).toContain(`Escalated to on-call: ${NO_RECENT_CHANGE}`);
  });

  it('quotes and escapes label values in the question, so an alert cannot change its shape', async () => {
    h = await startHarness({ prometheus: true });
    const hostile = { ...CRASH, deployment: 'checkout"} or vector(0) #\\' };
    const asked =
      'time() - max(kube_replicaset_created{namespace="shop"} * on (namespace, replicaset) group_left () ' +
      'max by (namespace, replicaset) (kube_replicaset_owner{namespace="shop",owner_kind="Deployment",' +
      'owner_name="checkout\\"} or vector(0) #\\\\",owner_is_controller="true"}))';
    expect(changedRecentlyQuery('shop', hostile.deployment)).toBe(asked);
    h.prometheus.answer(asked, [{ value: 2700 }]).fire(hostile);
    await alert(h, hostile);
    expect(await finishedExecution(h)).toMatchObject({ status: 'FAILED', error: 'Rebound.Escalated' });
    expect(h.prometheus.queries()).toEqual([asked]);
    expect(clusterWrites(h)).toEqual([]);
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
    h.prometheus.answer(CHANGED_RECENTLY, [{ value: 120 }]).fire(CRASH);
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

  it('escalates, undoing nothing, when the verification cannot reach Prometheus at all', async () => {
    h = await startHarness({ prometheus: true, parameters: { verifyTimeoutSeconds: 1 } });
    h.prometheus
      .answer(CHANGED_RECENTLY, [{ value: 120 }])
      .answer('ALERTS{alertname="CheckoutCrashLooping",alertstate="firing"}', {
        status: 503,
        errorType: 'unavailable',
        error: 'Prometheus is restarting',
      });
    await badDeploy();
    await alert(h, CRASH);
    expect(await finishedExecution(h)).toMatchObject({ status: 'FAILED', error: 'Rebound.Escalated' });
    const view = await waitForStatus(h, 'escalated');
    expectOnlyTheRollback();
    expect(describe(view)).toMatch(
      /Escalated to on-call: could not verify the fix \(Rebound\.VerificationUnavailable: no source answered about CheckoutCrashLooping\{.*\} before the deadline .*Prometheus is restarting.*\); what Rebound changed is left in place: check by hand before undoing it/,
    );
    // Not known to have failed: the breaker does not count it.
    expect(await breakers(h)).toEqual([]);
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

suite('the changed-recently question', () => {
  it('is the text the runbook builds', () => {
    expect(changedRecentlyQuery('shop', 'checkout')).toBe(CHANGED_RECENTLY);
  });

  it('reads ReplicaSet series the double exports as kube-state-metrics does', () => {
    const api = new KubeApiDouble({ now: () => new Date('2026-11-25T20:00:00Z') });
    const deployment = seedDeployment(api, { namespace: 'shop', name: 'checkout' });
    const [rs, ...others] = api.list('replicasets', 'shop');
    expect(others).toEqual([]);
    // The controller's ReplicaSet carries what the series are made of, in the apiserver's wire form.
    expect(rs!.metadata).toMatchObject({
      creationTimestamp: '2026-11-25T20:00:00Z',
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: 'checkout',
          uid: deployment.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    });
    const labels = `namespace="shop",replicaset="${rs!.metadata.name}"`;
    expect(kubeStateMetrics(api, undefined).split('\n')).toEqual(
      expect.arrayContaining([
        '# HELP kube_replicaset_created Unix creation timestamp',
        '# TYPE kube_replicaset_created gauge',
        `kube_replicaset_created{${labels}} ${Date.parse('2026-11-25T20:00:00Z') / 1000}`,
        "# HELP kube_replicaset_owner Information about the ReplicaSet's owner.",
        '# TYPE kube_replicaset_owner gauge',
        `kube_replicaset_owner{${labels},owner_kind="Deployment",owner_name="checkout",owner_is_controller="true"} 1`,
      ]),
    );
  });
});

// The scripted answers above are what real PromQL gives over the series the double exports for such histories.
const promtool = requireTool('promtool');

suite.skipIf(!promtool)('the changed-recently question under real PromQL (promtool test rules)', () => {
  it('dates only new pod templates: not a scale, not a rollback, not another Deployment', async () => {
    // The double's clock starts at the Unix epoch, as promtool's evaluation time does: minute m is m * 60 s.
    let minute = 0;
    const api = new KubeApiDouble({ now: () => new Date(minute * 60_000) });
    const seed = (name: string) => seedDeployment(api, { namespace: 'shop', name });
    const scale = (name: string, replicas: number) => {
      const dep = api.get('deployments', 'shop', name)!;
      api.put('deployments', { ...dep, spec: { ...(dep['spec'] as object), replicas } });
    };
    const history: [number, () => void][] = [
      [0, () => ['checkout', 'cart', 'web'].forEach(seed)],
      // checkout: a deploy 50 minutes before the question, then a scale-out 5 minutes before it.
      [10, () => setImage(api, 'shop', 'checkout', 'checkout:2')],
      [55, () => scale('checkout', 4)],
      // cart: a deploy 10 minutes before; later a Deployment whose ReplicaSets are named like cart's.
      [50, () => setImage(api, 'shop', 'cart', 'cart:2')],
      [58, () => seed('cart-canary')],
      // web: a deploy 20 minutes before, rolled back 10 minutes before (the rollback re-uses revision 1's).
      [40, () => setImage(api, 'shop', 'web', 'web:2')],
      [50, () => setImage(api, 'shop', 'web', 'web:1')],
    ];
    // The exported series minute by minute, each twice: two kube-state-metrics replicas scraped (an HA install).
    const values = new Map<string, (string | undefined)[]>();
    for (minute = 0; minute <= 60; minute++) {
      for (const [at, act] of history) if (at === minute) act();
      for (const line of kubeStateMetrics(api, undefined).split('\n')) {
        const m = /^(kube_replicaset_(?:created|owner)\{.*)\} (\S+)$/.exec(line);
        if (!m) continue;
        for (const instance of ['ksm-0', 'ksm-1']) {
          const series = `${m[1]},instance="${instance}"}`;
          if (!values.has(series)) values.set(series, []);
          values.get(series)![minute] = m[2];
        }
      }
    }
    const webReplicaSets = api
      .list('replicasets', 'shop')
      .filter((rs) => rs.metadata.name.startsWith('web-'));
    expect(webReplicaSets).toHaveLength(2); // the rollback made no third one
    // A name that needs escaping (not a valid Kubernetes name, but alert labels can say anything).
    const odd = 'we"ird\\name';
    values.set(`kube_replicaset_created{namespace="shop",replicaset="odd-1"}`, Array(61).fill('900'));
    values.set(
      `kube_replicaset_owner{namespace="shop",replicaset="odd-1",owner_kind="Deployment",owner_name=${JSON.stringify(odd)},owner_is_controller="true"}`,
      Array(61).fill('1'),
    );

    const inputSeries = [...values].map(
      ([series, samples]) =>
        `      - series: ${JSON.stringify(series)}\n` +
        `        values: ${JSON.stringify(Array.from({ length: 61 }, (_, i) => samples[i] ?? '_').join(' '))}\n`,
    );
    const expectAge = (deployment: string, samples: string) =>
      `      - expr: ${JSON.stringify(changedRecentlyQuery('shop', deployment))}\n` +
      `        eval_time: 60m\n        exp_samples: ${samples}\n`;
    const dir = tempDir('rebound-changed-recently-');
    try {
      const file = join(dir.path, 'changed-recently.test.yml');
      await writeFile(
        file,
        'rule_files: []\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n' +
          inputSeries.join('') +
          '    promql_expr_test:\n' +
          // The scale-out 5 minutes ago does not count: the newest template is 50 minutes old (> 1800 s).
          expectAge('checkout', "[{labels: '{}', value: 3000}]") +
          // cart-canary's ReplicaSet, 2 minutes old, is not cart's.
          expectAge('cart', "[{labels: '{}', value: 600}]") +
          // After the rollback the ReplicaSet it replaced is still the newest: 20 minutes old.
          expectAge('web', "[{labels: '{}', value: 1200}]") +
          expectAge(odd, "[{labels: '{}', value: 2700}]") +
          expectAge('absent', '[]'),
      );
      const result = await run(promtool!, ['test', 'rules', file]);
      expect(result.stdout + result.stderr).toContain('SUCCESS');
      expect(result.code).toBe(0);
    } finally {
      dir.remove();
    }
  });
});
