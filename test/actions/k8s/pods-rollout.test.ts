import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalSelector, deletePodAction } from '../../../src/actions/k8s/delete-pod.ts';
import { drainAction } from '../../../src/actions/k8s/drain.ts';
import { rolloutStatus } from '../../../src/actions/k8s/rollout-status.ts';
import { waitRolloutAction } from '../../../src/actions/k8s/wait-rollout.ts';
import { seedDeployment, setImage } from '../../support/k8s-api/index.ts';
import { harness, type Harness } from './harness.ts';

describe('k8s.deletePod', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
    seedDeployment(h.api, { namespace: 'shop', name: 'web', replicas: 3 });
    h.api.clearRequests();
  });
  afterEach(() => h.close());

  it('deletes one pod by name; its ReplicaSet replaces it', async () => {
    const victim = h.api.list('pods', 'shop')[0]!;
    const action = deletePodAction(h.deps);
    const res = await action.run(
      action.params.parse({ namespace: 'shop', name: victim.metadata.name }),
      h.ctx(),
    );
    expect(h.api.writes()).toEqual([
      {
        method: 'DELETE',
        path: `/api/v1/namespaces/shop/pods/${victim.metadata.name}`,
        query: {},
        contentType: 'application/json',
        body: undefined,
      },
    ]);
    expect(res.output.deleted).toEqual([
      { name: victim.metadata.name, uid: victim.metadata.uid, phase: 'Running' },
    ]);
    expect(h.api.get('pods', 'shop', victim.metadata.name)).toBeUndefined();
    expect(h.api.list('pods', 'shop')).toHaveLength(3);
    expect(action.target!(action.params.parse({ namespace: 'shop', name: victim.metadata.name }))).toEqual({
      cluster: 'prod',
      namespace: 'shop',
      kind: 'Pod',
      name: victim.metadata.name,
    });
  });

  it('by selector refuses to delete more than maxCount pods, and deletes up to it', async () => {
    const action = deletePodAction(h.deps);
    await expect(
      action.run(action.params.parse({ namespace: 'shop', selector: 'app=web', maxCount: 2 }), h.ctx()),
    ).rejects.toMatchObject({
      reason: 'TooManyMatches',
      retryable: false,
    });
    expect(h.api.writes()).toEqual([]);
    expect(h.api.requests[0]).toMatchObject({
      path: '/api/v1/namespaces/shop/pods',
      query: { labelSelector: 'app=web' },
    });
    const res = await action.run(
      action.params.parse({ namespace: 'shop', selector: 'app=web', maxCount: 3 }),
      h.ctx(),
    );
    expect(res.output.deleted).toHaveLength(3);
    expect(h.api.writes().map((w) => w.method)).toEqual(['DELETE', 'DELETE', 'DELETE']);
  });

  it('shadow mode records the DELETE only; a missing pod is a non-retryable 404', async () => {
    const victim = h.api.list('pods', 'shop')[0]!;
    const action = deletePodAction(h.deps);
    const res = await action.run(
      action.params.parse({ namespace: 'shop', name: victim.metadata.name }),
      h.ctx({ shadow: true }),
    );
    // client-node labels even a body-less DELETE application/json; the record is what went on the wire.
    expect(res.writes).toEqual([
      {
        method: 'DELETE',
        path: `/api/v1/namespaces/shop/pods/${victim.metadata.name}`,
        contentType: 'application/json',
      },
    ]);
    expect(h.api.get('pods', 'shop', victim.metadata.name)).toBeDefined();
    await expect(
      action.run(action.params.parse({ namespace: 'shop', name: 'ghost' }), h.ctx()),
    ).rejects.toMatchObject({ status: 404, retryable: false });
  });

  it('refuses a pod no controller would recreate unless forced', async () => {
    h.api.put('pods', {
      metadata: { name: 'lonely', namespace: 'shop' },
      spec: { containers: [{ name: 'l', image: 'l' }] },
      status: { phase: 'Running' },
    });
    const action = deletePodAction(h.deps);
    await expect(
      action.run(action.params.parse({ namespace: 'shop', name: 'lonely' }), h.ctx()),
    ).rejects.toMatchObject({ reason: 'Unmanaged', retryable: false });
    expect(h.api.writes()).toEqual([]);
    await action.run(action.params.parse({ namespace: 'shop', name: 'lonely', force: true }), h.ctx());
    expect(h.api.get('pods', 'shop', 'lonely')).toBeUndefined();
  });

  it('locks one target per selector, however it is spelled', () => {
    const action = deletePodAction(h.deps);
    const target = (selector: string) =>
      action.target!(action.params.parse({ namespace: 'shop', selector })).name;
    expect(target('tier=fe, app=web')).toBe('selector:app=web,tier=fe');
    expect(target('app==web,tier = fe')).toBe('selector:app=web,tier=fe');
    expect(target('app=web')).not.toBe(target('app=api'));
    expect(canonicalSelector('env in (prod, dev),!canary, app!=web')).toBe(
      '!canary,app!=web,env in (dev,prod)',
    );
    expect(canonicalSelector('env notin (b,a)')).toBe('env notin (a,b)');
  });

  it('requires exactly one of name or selector', () => {
    const action = deletePodAction(h.deps);
    expect(action.params.safeParse({ namespace: 'shop' }).success).toBe(false);
    expect(action.params.safeParse({ namespace: 'shop', name: 'a', selector: 'b=c' }).success).toBe(false);
  });

  it('sends a grace period as kubectl delete does, and refuses 0, which would force-delete', async () => {
    const victim = h.api.list('pods', 'shop')[0]!;
    const action = deletePodAction(h.deps);
    await action.run(
      action.params.parse({ namespace: 'shop', name: victim.metadata.name, gracePeriodSeconds: 5 }),
      h.ctx(),
    );
    expect(h.api.writes().map((w) => w.query)).toEqual([{ gracePeriodSeconds: '5' }]);
    for (const refused of [
      action.params.safeParse({ namespace: 'shop', name: 'a', gracePeriodSeconds: 0 }),
      drainAction(h.deps).params.safeParse({ name: 'node-1', gracePeriodSeconds: 0 }),
    ]) {
      expect(refused.error?.issues).toEqual([
        expect.objectContaining({
          path: ['gracePeriodSeconds'],
          message: expect.stringMatching(/force-delete the pod.*give 1 or more/),
        }),
      ]);
    }
  });
});

describe('k8s.waitRollout', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
    seedDeployment(h.api, { namespace: 'shop', name: 'web', replicas: 2 });
    h.api.clearRequests();
  });
  afterEach(() => h.close());

  it('polls (reads only) until kubectl’s rollout status says done', async () => {
    setImage(h.api, 'shop', 'web', 'web:2');
    h.api.holdRollout('shop', 'web', 3);
    const action = waitRolloutAction(h.deps);
    expect(action.mutating).toBe(false);
    const res = await action.run(action.params.parse({ namespace: 'shop', name: 'web' }), h.ctx());
    expect(res.output).toMatchObject({
      message: 'deployment "web" successfully rolled out',
      revision: '2',
      polls: 4,
    });
    expect(res.writes).toEqual([]);
    expect(h.api.writes()).toEqual([]);
    expect(h.sleeps).toEqual([1000, 1000, 1000]);
  });

  it('fails at the deadline (retryable) and on ProgressDeadlineExceeded (not retryable)', async () => {
    h.api.holdRollout('shop', 'web', 1000);
    const action = waitRolloutAction(h.deps);
    await expect(
      action.run(action.params.parse({ namespace: 'shop', name: 'web', timeoutSeconds: 5 }), h.ctx()),
    ).rejects.toMatchObject({
      reason: 'Timeout',
      retryable: true,
    });
    h.api.failRollout('shop', 'web');
    const err = await action
      .run(action.params.parse({ namespace: 'shop', name: 'web' }), h.ctx())
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'ProgressDeadlineExceeded', retryable: false });
    expect((err as Error).message).toContain('deployment "web" exceeded its progress deadline');
  });
});

describe('rolloutStatus (kubectl DeploymentStatusViewer)', () => {
  const dep = (generation: number, status: object, replicas = 3) => ({
    metadata: { name: 'web', generation },
    spec: { replicas, selector: {}, template: {} },
    status,
  });
  it('follows kubectl’s order of checks and messages', () => {
    expect(rolloutStatus(dep(2, { observedGeneration: 1 })).message).toBe(
      'Waiting for deployment spec update to be observed...',
    );
    expect(rolloutStatus(dep(1, { observedGeneration: 1, updatedReplicas: 1 })).message).toBe(
      'Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...',
    );
    expect(rolloutStatus(dep(1, { observedGeneration: 1, updatedReplicas: 3, replicas: 4 })).message).toBe(
      'Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...',
    );
    expect(
      rolloutStatus(dep(1, { observedGeneration: 1, updatedReplicas: 3, replicas: 3, availableReplicas: 2 }))
        .message,
    ).toBe('Waiting for deployment "web" rollout to finish: 2 of 3 updated replicas are available...');
    expect(
      rolloutStatus(dep(1, { observedGeneration: 1, updatedReplicas: 3, replicas: 3, availableReplicas: 3 })),
    ).toEqual({
      state: 'done',
      message: 'deployment "web" successfully rolled out',
    });
  });
});
