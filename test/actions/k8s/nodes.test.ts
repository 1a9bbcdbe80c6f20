import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { drainAction } from '../../../src/actions/k8s/drain.ts';
import { cordonAction, uncordonAction } from '../../../src/actions/k8s/nodes.ts';
import { seedDaemonSetPod, seedDeployment, seedNode, type K8sObject } from '../../support/k8s-api/index.ts';
import { harness, type Harness } from './harness.ts';

const unschedulable = (n: K8sObject | undefined) => (n!['spec'] as { unschedulable?: boolean }).unschedulable;
const podsOn = (h: Harness, node: string) =>
  h.api.list('pods').filter((p) => (p['spec'] as { nodeName?: string }).nodeName === node);

describe('k8s.cordon / k8s.uncordon', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
    seedNode(h.api, 'n1');
    h.api.clearRequests();
  });
  afterEach(() => h.close());

  it('sends kubectl’s strategic-merge patches and flips spec.unschedulable', async () => {
    const cordon = cordonAction(h.deps);
    const res = await cordon.run(cordon.params.parse({ name: 'n1' }), h.ctx());
    expect(h.api.writes()).toEqual([
      {
        method: 'PATCH',
        path: '/api/v1/nodes/n1',
        query: {},
        contentType: 'application/strategic-merge-patch+json',
        body: { spec: { unschedulable: true } },
      },
    ]);
    expect(res.output.unschedulable).toEqual({ before: false, after: true });
    expect(unschedulable(h.api.get('nodes', undefined, 'n1'))).toBe(true);
    expect(cordon.target!(cordon.params.parse({ name: 'n1' }))).toEqual({
      cluster: 'prod',
      kind: 'Node',
      name: 'n1',
    });

    h.api.clearRequests();
    const again = await cordon.run(cordon.params.parse({ name: 'n1' }), h.ctx());
    expect(again.noop).toBe(true);
    expect(h.api.writes()).toEqual([]);

    const uncordon = uncordonAction(h.deps);
    await uncordon.run(uncordon.params.parse({ name: 'n1' }), h.ctx());
    expect(h.api.writes()).toEqual([
      {
        method: 'PATCH',
        path: '/api/v1/nodes/n1',
        query: {},
        contentType: 'application/strategic-merge-patch+json',
        body: { spec: { unschedulable: null } },
      },
    ]);
    expect(unschedulable(h.api.get('nodes', undefined, 'n1'))).toBeUndefined();
  });

  it('shadow mode records the patch only', async () => {
    const cordon = cordonAction(h.deps);
    const res = await cordon.run(cordon.params.parse({ name: 'n1' }), h.ctx({ shadow: true }));
    expect(res.writes).toEqual([
      {
        method: 'PATCH',
        path: '/api/v1/nodes/n1',
        contentType: 'application/strategic-merge-patch+json',
        body: { spec: { unschedulable: true } },
      },
    ]);
    expect(h.api.writes()).toEqual([]);
    expect(unschedulable(h.api.get('nodes', undefined, 'n1'))).toBeUndefined();
  });
});

describe('k8s.drain', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
    seedNode(h.api, 'n1');
    seedDeployment(h.api, { namespace: 'shop', name: 'web', replicas: 2 }); // both pods land on n1
    seedNode(h.api, 'n2');
    // A DaemonSet pod and a mirror pod on n1, which drain leaves alone.
    seedDaemonSetPod(h.api, { namespace: 'kube-system', daemonSet: 'agent', name: 'agent-x', node: 'n1' });
    h.api.put('pods', {
      metadata: {
        name: 'etcd-n1',
        namespace: 'kube-system',
        annotations: { 'kubernetes.io/config.mirror': 'abc' },
      },
      spec: { nodeName: 'n1', containers: [{ name: 'etcd', image: 'etcd' }] },
      status: { phase: 'Running' },
    });
    h.api.clearRequests();
  });
  afterEach(() => h.close());

  it('cordons, evicts each pod through policy/v1 Eviction, skips DaemonSet and mirror pods, waits until gone', async () => {
    const before = podsOn(h, 'n1')
      .filter((p) => p.metadata.namespace === 'shop')
      .map((p) => p.metadata.name)
      .sort();
    expect(before).toHaveLength(2);
    const drain = drainAction(h.deps);
    const res = await drain.run(drain.params.parse({ name: 'n1' }), h.ctx());

    const gets = h.api.requests.filter((r) => r.method === 'GET');
    expect(gets[0]).toMatchObject({ path: '/api/v1/pods', query: { fieldSelector: 'spec.nodeName=n1' } });
    const writes = h.api.writes();
    expect(writes[0]).toEqual({
      method: 'PATCH',
      path: '/api/v1/nodes/n1',
      query: {},
      contentType: 'application/strategic-merge-patch+json',
      body: { spec: { unschedulable: true } },
    });
    expect(writes.slice(1).sort((a, b) => a.path.localeCompare(b.path))).toEqual(
      before.map((name) => ({
        method: 'POST',
        path: `/api/v1/namespaces/shop/pods/${name}/eviction`,
        query: {},
        contentType: 'application/json',
        body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'shop' } },
      })),
    );
    expect(res.output.evicted.slice().sort()).toEqual(before.map((n) => `shop/${n}`));
    expect(res.output.skipped).toEqual([
      { pod: 'kube-system/agent-x', reason: 'DaemonSet' },
      { pod: 'kube-system/etcd-n1', reason: 'MirrorPod' },
    ]);
    // The evicted pods are gone; their replacements run on the schedulable node.
    expect(
      podsOn(h, 'n1')
        .map((p) => p.metadata.name)
        .sort(),
    ).toEqual(['agent-x', 'etcd-n1']);
    expect(podsOn(h, 'n2')).toHaveLength(2);
  });

  it('lists the node again once cordoned: a pod bound meanwhile is evicted too', async () => {
    // A pod is bound to n1 while the cordon is on its way (n1 is still schedulable until it lands).
    let once = true;
    h.api.onRequest((r) => {
      if (once && r.method === 'PATCH' && r.path === '/api/v1/nodes/n1') {
        once = false;
        h.api.put('pods', {
          metadata: {
            name: 'db-0',
            namespace: 'shop',
            ownerReferences: [
              { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'sts-1', controller: true },
            ],
          },
          spec: { nodeName: 'n1', containers: [{ name: 'db', image: 'db' }] },
          status: { phase: 'Running' },
        });
      }
    });
    const asked: string[] = [];
    const ctx = {
      ...h.ctx(),
      alsoChanges: (targets: readonly { name: string }[]) => {
        asked.push(...targets.map((t) => t.name));
        return Promise.resolve();
      },
    };
    const drain = drainAction(h.deps);
    const res = await drain.run(drain.params.parse({ name: 'n1' }), ctx);
    expect(res.output.evicted).toHaveLength(3);
    expect(res.output.evicted).toContain('shop/db-0');
    expect(asked.at(-1)).toBe('db-0'); // put to the guard rails too, after the first two
    expect(podsOn(h, 'n1').filter((p) => p.metadata.namespace === 'shop')).toEqual([]);
  });

  it('retries an eviction a PodDisruptionBudget blocks (429) until the budget allows it', async () => {
    h.api.put('poddisruptionbudgets', {
      metadata: { name: 'web-pdb', namespace: 'shop' },
      spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } },
    });
    let blocked = 0;
    h.api.onRequest((r) => {
      if (!r.path.endsWith('/eviction')) return;
      blocked++;
      // Both first attempts are refused; before the third the owners add capacity elsewhere (3 healthy pods,
      // 1 disruption allowed), and each eviction's replacement keeps it that way.
      if (blocked === 3) {
        const dep = h.api.get('deployments', 'shop', 'web')!;
        h.api.put('deployments', { ...dep, spec: { ...(dep['spec'] as object), replicas: 3 } });
      }
    });
    const drain = drainAction(h.deps);
    const res = await drain.run(drain.params.parse({ name: 'n1', timeoutSeconds: 600 }), h.ctx());
    expect(res.output.blockedAttempts).toBe(2);
    expect(h.sleeps.filter((ms) => ms === 5000).length).toBe(res.output.blockedAttempts);
    expect(podsOn(h, 'n1').filter((p) => p.metadata.namespace === 'shop')).toEqual([]);
  });

  it('fails for good, without retrying, on a pod that two PodDisruptionBudgets select', async () => {
    for (const name of ['web-pdb', 'web-pdb-2'])
      h.api.put('poddisruptionbudgets', {
        metadata: { name, namespace: 'shop' },
        spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } },
      });
    const drain = drainAction(h.deps);
    const err = await drain
      .run(drain.params.parse({ name: 'n1', timeoutSeconds: 600 }), h.ctx())
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'K8s.MultiplePodDisruptionBudgets', retryable: false });
    expect((err as Error).message).toMatch(/selected by more than one PodDisruptionBudget/);
    // Each pod's eviction was asked once (they go out side by side), none again.
    const evictions = h.api.writes().filter((w) => w.path.endsWith('/eviction'));
    expect(evictions.length).toBeGreaterThan(0);
    expect(new Set(evictions.map((w) => w.path)).size).toBe(evictions.length);
  });

  it('evicts a finished DaemonSet pod; one whose DaemonSet is gone needs force, as with kubectl', async () => {
    const daemonPod = (name: string, daemonSet: string, phase: string, withDaemonSet: boolean) =>
      seedDaemonSetPod(
        h.api,
        { namespace: 'kube-system', daemonSet, name, node: 'n1', phase },
        withDaemonSet,
      );
    daemonPod('agent-done', 'agent', 'Failed', true); // e.g. left Failed by a graceful node shutdown
    daemonPod('old-agent-x', 'old-agent', 'Running', false); // its DaemonSet was deleted with --cascade=orphan
    const drain = drainAction(h.deps);
    const err = await drain.run(drain.params.parse({ name: 'n1' }), h.ctx()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'K8s.DrainBlocked', retryable: false });
    expect((err as Error).message).toContain(
      'kube-system/old-agent-x belongs to DaemonSet kube-system/old-agent, which no longer exists (set force to evict it)',
    );
    expect(h.api.writes()).toEqual([]); // refused before the cordon
    const res = await drain.run(drain.params.parse({ name: 'n1', force: true }), h.ctx());
    expect(res.output.evicted).toEqual(
      expect.arrayContaining(['kube-system/agent-done', 'kube-system/old-agent-x']),
    );
    expect(res.output.skipped).toContainEqual({ pod: 'kube-system/agent-x', reason: 'DaemonSet' });
  });

  it('gives up at the deadline with a retryable timeout while the budget still blocks', async () => {
    const victim = podsOn(h, 'n1').find((p) => p.metadata.namespace === 'shop')!;
    h.api.neverEvict('shop', victim.metadata.name);
    const drain = drainAction(h.deps);
    const err = await drain
      .run(drain.params.parse({ name: 'n1', timeoutSeconds: 20 }), h.ctx())
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'Timeout', retryable: true });
    expect((err as Error).message).toContain(
      "Cannot evict pod as it would violate the pod's disruption budget.",
    );
    expect(h.api.get('pods', 'shop', victim.metadata.name)).toBeDefined();
    expect(h.api.writes().filter((w) => w.path.endsWith(`${victim.metadata.name}/eviction`)).length).toBe(5); // t=0,5,10,15,20 s
  });

  it('waits for a terminating pod to disappear', async () => {
    const [first] = podsOn(h, 'n1').filter((p) => p.metadata.namespace === 'shop');
    h.api.holdDeletion('shop', first!.metadata.name, 3);
    const drain = drainAction(h.deps);
    await drain.run(drain.params.parse({ name: 'n1' }), h.ctx());
    const polls = h.api.requests.filter(
      (r) => r.method === 'GET' && r.path === `/api/v1/namespaces/shop/pods/${first!.metadata.name}`,
    );
    expect(polls.length).toBe(4); // three reads while terminating, then 404
    expect(h.api.get('pods', 'shop', first!.metadata.name)).toBeUndefined();
  });

  it('treats a 404 from the Eviction API as already gone', async () => {
    const [first] = podsOn(h, 'n1').filter((p) => p.metadata.namespace === 'shop');
    h.api.failNext(
      1,
      { code: 404, reason: 'NotFound' },
      { pathIncludes: `${first!.metadata.name}/eviction` },
    );
    const drain = drainAction(h.deps);
    const res = await drain.run(drain.params.parse({ name: 'n1' }), h.ctx());
    expect(res.output.evicted).toHaveLength(2);
  });

  it('refuses unmanaged pods unless forced, before cordoning', async () => {
    h.api.put('pods', {
      metadata: { name: 'lonely', namespace: 'shop' },
      spec: { nodeName: 'n1', containers: [{ name: 'l', image: 'l' }] },
      status: { phase: 'Running' },
    });
    const drain = drainAction(h.deps);
    await expect(drain.run(drain.params.parse({ name: 'n1' }), h.ctx())).rejects.toMatchObject({
      reason: 'DrainBlocked',
      retryable: false,
    });
    expect(h.api.writes()).toEqual([]);
    const forced = await drain.run(drain.params.parse({ name: 'n1', force: true }), h.ctx());
    expect(forced.output.evicted).toContain('shop/lonely');
  });

  it('asks the guard rails about the pods it would evict before cordoning, and stops when they refuse', async () => {
    const asked: unknown[] = [];
    const refusal = new Error('namespace "shop" is paused');
    const ctx = {
      ...h.ctx(),
      alsoChanges: (targets: readonly unknown[]) => {
        asked.push(...targets);
        return Promise.reject(refusal);
      },
    };
    const drain = drainAction(h.deps);
    await expect(drain.run(drain.params.parse({ name: 'n1' }), ctx)).rejects.toBe(refusal);
    const shopPods = podsOn(h, 'n1').filter((p) => p.metadata.namespace === 'shop');
    // The DaemonSet and mirror pods a drain leaves alone are not asked about.
    expect(asked).toEqual(
      shopPods.map((p) => ({ cluster: 'prod', namespace: 'shop', kind: 'Pod', name: p.metadata.name })),
    );
    expect(h.api.writes()).toEqual([]);
    expect(unschedulable(h.api.get('nodes', undefined, 'n1'))).toBeUndefined();
  });

  it('drains a finished pod without force, as kubectl does, even an unmanaged one with emptyDir', async () => {
    h.api.put('pods', {
      metadata: { name: 'job-done', namespace: 'shop' },
      spec: {
        nodeName: 'n1',
        containers: [{ name: 'j', image: 'j' }],
        volumes: [{ name: 'tmp', emptyDir: {} }],
      },
      status: { phase: 'Succeeded' },
    });
    const drain = drainAction(h.deps);
    const res = await drain.run(drain.params.parse({ name: 'n1' }), h.ctx());
    expect(res.output.evicted).toContain('shop/job-done');
  });

  it('stops the other evictions at the first that fails for good, and says what it had evicted', async () => {
    // The one blocked by its budget comes first in the list; the one that fails for good, second.
    const [second, first] = podsOn(h, 'n1').filter((p) => p.metadata.namespace === 'shop');
    h.api.neverEvict('shop', second!.metadata.name); // keeps retrying on 429
    h.api.failNext(
      1,
      { code: 500, reason: 'InternalError' },
      { pathIncludes: `${first!.metadata.name}/eviction` },
    );
    const drain = drainAction(h.deps);
    const err = await drain
      .run(drain.params.parse({ name: 'n1', timeoutSeconds: 600 }), h.ctx())
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'InternalError' });
    expect((err as Error).message).toMatch(/evicted before the failure: none/);
    const attempts = () =>
      h.api.writes().filter((w) => w.path.endsWith(`${second!.metadata.name}/eviction`)).length;
    const after = attempts();
    await new Promise((r) => setTimeout(r, 50));
    expect(attempts()).toBe(after); // its retry loop ended with the action
  });

  it('shadow mode records the cordon and every eviction without sending them', async () => {
    const drain = drainAction(h.deps);
    const res = await drain.run(drain.params.parse({ name: 'n1' }), h.ctx({ shadow: true }));
    expect(res.writes.map((w) => w.method)).toEqual(['PATCH', 'POST', 'POST']);
    expect(h.api.writes()).toEqual([]);
    expect(podsOn(h, 'n1')).toHaveLength(4);
  });
});
