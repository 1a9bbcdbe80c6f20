import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { K8sSession } from '../../../src/actions/k8s/client.ts';
import { K8sActionError } from '../../../src/actions/k8s/errors.ts';
import { desiredReplicas, scaleAction } from '../../../src/actions/k8s/scale.ts';
import { seedDeployment } from '../../support/k8s-api/index.ts';
import { freePort } from '../../support/process.ts';
import { harness, type Harness } from './harness.ts';
import { toStatesError } from '../../../src/workflows/errors.ts';

const SCALE_PATH = '/apis/apps/v1/namespaces/shop/deployments/web/scale';

describe('k8s.scale', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness({ scaleBounds: [{ namespace: 'shop', name: 'web', min: 2, max: 6 }] });
    seedDeployment(h.api, { namespace: 'shop', name: 'web', replicas: 3 });
    h.api.clearRequests();
  });
  afterEach(() => h.close());

  it('sends kubectl scale’s merge patch to the scale subresource and the Deployment follows', async () => {
    const action = scaleAction(h.deps);
    const res = await action.run(
      action.params.parse({ namespace: 'shop', name: 'web', replicas: 5 }),
      h.ctx(),
    );
    expect(h.api.writes()).toEqual([
      {
        method: 'PATCH',
        path: SCALE_PATH,
        query: {},
        contentType: 'application/merge-patch+json',
        body: { spec: { replicas: 5 } },
      },
    ]);
    expect(res.writes).toEqual([
      {
        method: 'PATCH',
        path: SCALE_PATH,
        contentType: 'application/merge-patch+json',
        body: { spec: { replicas: 5 } },
      },
    ]);
    expect(res.output).toMatchObject({
      cluster: 'prod',
      replicas: { before: 3, after: 5 },
      requested: 5,
      clamped: false,
    });
    const dep = h.api.get('deployments', 'shop', 'web')!;
    expect((dep['spec'] as { replicas: number }).replicas).toBe(5);
    expect(h.api.list('pods', 'shop')).toHaveLength(5);
  });

  it('steps by N and by a factor, clamped to the target’s bounds', async () => {
    const action = scaleAction(h.deps);
    const up = await action.run(action.params.parse({ namespace: 'shop', name: 'web', by: 10 }), h.ctx());
    expect(up.output).toMatchObject({ replicas: { before: 3, after: 6 }, requested: 13, clamped: true });
    const down = await action.run(
      action.params.parse({ namespace: 'shop', name: 'web', factor: 0.1 }),
      h.ctx(),
    );
    expect(down.output).toMatchObject({ replicas: { before: 6, after: 2 }, requested: 0, clamped: true });
    expect((h.api.get('deployments', 'shop', 'web')!['spec'] as { replicas: number }).replicas).toBe(2);
  });

  it('is a no-op without writes when already at the clamped count', async () => {
    const action = scaleAction(h.deps);
    const res = await action.run(
      action.params.parse({ namespace: 'shop', name: 'web', replicas: 3 }),
      h.ctx(),
    );
    expect(res.noop).toBe(true);
    expect(res.writes).toEqual([]);
    expect(h.api.writes()).toEqual([]);
  });

  it('in shadow mode records the same request and does not send it', async () => {
    const action = scaleAction(h.deps);
    const res = await action.run(
      action.params.parse({ namespace: 'shop', name: 'web', replicas: 4 }),
      h.ctx({ shadow: true }),
    );
    expect(res.writes).toEqual([
      {
        method: 'PATCH',
        path: SCALE_PATH,
        contentType: 'application/merge-patch+json',
        body: { spec: { replicas: 4 } },
      },
    ]);
    expect(h.api.writes()).toEqual([]);
    expect(h.api.requests.map((r) => r.method)).toEqual(['GET']);
    expect((h.api.get('deployments', 'shop', 'web')!['spec'] as { replicas: number }).replicas).toBe(3);
  });

  it('pre-flights each write with dryRun=All before the real call when configured', async () => {
    const pre = await harness({ preflightDryRun: true });
    try {
      seedDeployment(pre.api, { name: 'api', replicas: 1 });
      pre.api.clearRequests();
      const action = scaleAction(pre.deps);
      const res = await action.run(action.params.parse({ name: 'api', replicas: 2 }), pre.ctx());
      const path = '/apis/apps/v1/namespaces/default/deployments/api/scale';
      expect(pre.api.writes().map((r) => [r.path, r.query])).toEqual([
        [path, { dryRun: 'All' }],
        [path, {}],
      ]);
      expect(res.writes.map((w) => w.path)).toEqual([`${path}?dryRun=All`, path]);

      // A dry run the server refuses stops the action before the real write.
      pre.api.clearRequests();
      pre.api.failNext(
        1,
        { code: 422, reason: 'Invalid', message: 'admission webhook denied the request' },
        { method: 'PATCH' },
      );
      const err = await action
        .run(action.params.parse({ name: 'api', replicas: 3 }), pre.ctx())
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 422, reason: 'Invalid', retryable: false });
      expect(pre.api.writes().map((r) => r.query)).toEqual([{ dryRun: 'All' }]);
      expect((pre.api.get('deployments', 'default', 'api')!['spec'] as { replicas: number }).replicas).toBe(
        2,
      );
    } finally {
      await pre.close();
    }
  });

  it('reports conflicts and server errors as retryable, not-found as not', async () => {
    const action = scaleAction(h.deps);
    const params = action.params.parse({ namespace: 'shop', name: 'web', replicas: 4 });
    h.api.failNext(1, { code: 409, reason: 'Conflict' }, { method: 'PATCH' });
    await expect(action.run(params, h.ctx())).rejects.toMatchObject({
      name: 'K8sActionError',
      status: 409,
      reason: 'Conflict',
      retryable: true,
    });
    h.api.failNext(1, { code: 503, reason: 'ServiceUnavailable', retryAfterSeconds: 3 });
    await expect(action.run(params, h.ctx())).rejects.toMatchObject({
      status: 503,
      retryable: true,
      retryAfterMs: 3000,
    });
    h.api.failNext(1, { code: 429, reason: 'TooManyRequests' });
    await expect(action.run(params, h.ctx())).rejects.toMatchObject({ status: 429, retryable: true });
    const missing = action.params.parse({ namespace: 'shop', name: 'nope', replicas: 4 });
    const err = await action.run(missing, h.ctx()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(K8sActionError);
    expect(err).toMatchObject({ status: 404, reason: 'NotFound', retryable: false, code: 'K8s.NotFound' });
    expect((err as Error).message).toContain('deployments.apps "nope" not found');
    // What a runbook's Retry/Catch sees: the code as the error name, the whole message as the cause.
    expect(toStatesError(err).toOutput()).toEqual({ Error: 'K8s.NotFound', Cause: (err as Error).message });
    h.api.failNext(1, { code: 403, reason: 'Forbidden' });
    await expect(action.run(params, h.ctx())).rejects.toMatchObject({ status: 403, retryable: false });
  });

  it('after a lost answer reads the count again: a step that landed is not applied twice', async () => {
    const action = scaleAction(h.deps);
    const params = action.params.parse({ namespace: 'shop', name: 'web', by: 2 });
    const replicas = () =>
      (h.api.get('deployments', 'shop', 'web')!['spec'] as { replicas: number }).replicas;
    // The apiserver applies the patch, then answers 504 (etcd slow to confirm): the step landed.
    let landing = true;
    h.api.onRequest((r) => {
      if (landing && r.method === 'PATCH') {
        const dep = h.api.get('deployments', 'shop', 'web')!;
        h.api.put('deployments', { ...dep, spec: { ...(dep['spec'] as object), replicas: 5 } });
      }
    });
    h.api.failNext(1, { code: 504, reason: 'Timeout' }, { method: 'PATCH' });
    const landed = await action.run(params, h.ctx());
    expect(landed.output).toMatchObject({ replicas: { before: 3, after: 5 } });
    expect(replicas()).toBe(5);
    expect(h.api.requests.map((r) => r.method)).toEqual(['GET', 'PATCH', 'GET']);

    // The same answer lost with nothing applied: the attempt fails, retryable, and a retry steps from 5 once.
    landing = false;
    h.api.failNext(1, { code: 504, reason: 'Timeout' }, { method: 'PATCH' });
    await expect(action.run(params, h.ctx())).rejects.toMatchObject({ status: 504, retryable: true });
    expect(replicas()).toBe(5);
    const retried = await action.run(params, h.ctx());
    expect(retried.output).toMatchObject({ replicas: { before: 5, after: 6 }, clamped: true });

    // A refusal that cannot have landed (422, 409) is not second-guessed by another read.
    h.api.clearRequests();
    h.api.failNext(1, { code: 409, reason: 'Conflict' }, { method: 'PATCH' });
    const down = action.params.parse({ namespace: 'shop', name: 'web', replicas: 4 });
    await expect(action.run(down, h.ctx())).rejects.toMatchObject({ status: 409 });
    expect(h.api.requests.map((r) => r.method)).toEqual(['GET', 'PATCH']);
  });

  it('tells the rails of each write that may have changed something, not of one refused outright', async () => {
    const action = scaleAction(h.deps);
    let changes = 0;
    const ctx = { ...h.ctx(), onChange: () => void changes++ };
    const params = (replicas: number) => action.params.parse({ namespace: 'shop', name: 'web', replicas });
    h.api.failNext(1, { code: 403, reason: 'Forbidden' }, { method: 'PATCH' });
    await expect(action.run(params(4), ctx)).rejects.toMatchObject({ status: 403 });
    expect(changes).toBe(0);
    h.api.failNext(1, { code: 500, reason: 'InternalError' }, { method: 'PATCH' });
    await expect(action.run(params(4), ctx)).rejects.toMatchObject({ status: 500 });
    expect(changes).toBe(1); // a 5xx may come after the write was applied
    await action.run(params(4), ctx);
    expect(changes).toBe(2);
    await action.run(params(4), ctx); // already there: nothing sent
    expect(changes).toBe(2);
    expect(action.reportsChanges).toBe(true);
  });

  it('does not count a write that found no server to connect to as a possible change', async () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromClusterAndUser(
      { name: 'gone', server: `http://127.0.0.1:${await freePort()}`, skipTLSVerify: true },
      { name: 'nobody' },
    );
    let changes = 0;
    const policy = { shadow: false, preflightDryRun: false, requestTimeoutMs: 5000 };
    const session = new K8sSession(kubeConfig, policy, undefined, () => void changes++);
    const create = () => session.core.createNamespace({ body: { metadata: { name: 'x' } } });
    await expect(session.write('creating a namespace', create)).rejects.toThrow(/ECONNREFUSED/);
    expect(changes).toBe(0);
  });

  it('names its target for guard rails', () => {
    const action = scaleAction(h.deps);
    expect(action.target!(action.params.parse({ namespace: 'shop', name: 'web', replicas: 1 }))).toEqual({
      cluster: 'prod',
      namespace: 'shop',
      kind: 'Deployment',
      name: 'web',
    });
  });
});

describe('desiredReplicas', () => {
  const bounds = { min: 1, max: 10, allowZero: false };
  it('never goes to zero unless the target allows it', () => {
    expect(desiredReplicas(3, { namespace: 'a', name: 'b', replicas: 0 }, bounds).after).toBe(1);
    expect(
      desiredReplicas(3, { namespace: 'a', name: 'b', replicas: 0 }, { min: 0, max: 10, allowZero: true })
        .after,
    ).toBe(0);
    expect(desiredReplicas(3, { namespace: 'a', name: 'b', by: -5 }, bounds)).toEqual({
      requested: 0,
      after: 1,
    });
    expect(desiredReplicas(3, { namespace: 'a', name: 'b', factor: 1.5 }, bounds)).toEqual({
      requested: 5,
      after: 5,
    });
  });

  it('never moves the count the other way than asked when it is already outside the bounds', () => {
    // An autoscaler took it to 25, above max 10: asked to grow, it stays at 25 rather than dropping to 10.
    expect(desiredReplicas(25, { namespace: 'a', name: 'b', by: 2 }, bounds)).toEqual({
      requested: 27,
      after: 25,
    });
    expect(desiredReplicas(25, { namespace: 'a', name: 'b', by: -2 }, bounds)).toEqual({
      requested: 23,
      after: 10,
    });
    // Below min (scaled to 0 by hand): asked to shrink, it stays; asked to grow, it goes to at least min.
    const atLeastTwo = { min: 2, max: 10, allowZero: false };
    expect(desiredReplicas(0, { namespace: 'a', name: 'b', by: -1 }, atLeastTwo).after).toBe(0);
    expect(desiredReplicas(0, { namespace: 'a', name: 'b', by: 1 }, atLeastTwo).after).toBe(2);
    expect(desiredReplicas(5, { namespace: 'a', name: 'b', replicas: 5 }, bounds).after).toBe(5);
  });
});
