import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { restartAction, RESTARTED_AT } from '../../../src/actions/k8s/restart.ts';
import { rollbackAction } from '../../../src/actions/k8s/rollback.ts';
import { seedDeployment, setImage, type K8sObject } from '../../support/k8s-api/index.ts';
import { harness, landWithAnswerLost, type Harness } from './harness.ts';

const DEP_PATH = '/apis/apps/v1/namespaces/shop/deployments/web';
type DepSpec = {
  paused?: boolean;
  template: {
    metadata: { annotations?: Record<string, string>; labels: Record<string, string> };
    spec: { containers: { image: string }[] };
  };
};
const spec = (d: K8sObject | undefined) => d!['spec'] as unknown as DepSpec;

describe('k8s.restart', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
    seedDeployment(h.api, { namespace: 'shop', name: 'web', replicas: 2 });
    h.api.clearRequests();
  });
  afterEach(() => h.close());

  it('sends kubectl’s strategic-merge restartedAt patch and a new ReplicaSet rolls out', async () => {
    const action = restartAction(h.deps);
    const res = await action.run(action.params.parse({ namespace: 'shop', name: 'web' }), h.ctx());
    const body = {
      spec: { template: { metadata: { annotations: { [RESTARTED_AT]: '2026-01-02T03:04:05Z' } } } },
    };
    expect(h.api.writes()).toEqual([
      {
        method: 'PATCH',
        path: DEP_PATH,
        query: {},
        contentType: 'application/strategic-merge-patch+json',
        body,
      },
    ]);
    expect(res.writes).toEqual([
      { method: 'PATCH', path: DEP_PATH, contentType: 'application/strategic-merge-patch+json', body },
    ]);
    expect(res.output).toMatchObject({
      restartedAt: { before: null, after: '2026-01-02T03:04:05Z' },
      generation: { before: 1, after: 2 },
    });
    const dep = h.api.get('deployments', 'shop', 'web');
    expect(spec(dep).template.metadata.annotations).toEqual({ [RESTARTED_AT]: '2026-01-02T03:04:05Z' });
    expect(dep!.metadata.annotations!['deployment.kubernetes.io/revision']).toBe('2');
    expect(h.api.list('replicasets', 'shop')).toHaveLength(2);
  });

  it('after a lost answer reads the Deployment again: a restart that landed is not sent twice', async () => {
    landWithAnswerLost(h, () => {
      const dep = h.api.get('deployments', 'shop', 'web')!;
      spec(dep).template.metadata.annotations = { [RESTARTED_AT]: '2026-01-02T03:04:05Z' };
      h.api.put('deployments', dep);
    });
    const action = restartAction(h.deps);
    const res = await action.run(action.params.parse({ namespace: 'shop', name: 'web' }), h.ctx());
    expect(res.output.restartedAt).toEqual({ before: null, after: '2026-01-02T03:04:05Z' });
    expect(h.api.requests.map((r) => r.method)).toEqual(['GET', 'PATCH', 'GET']);
  });

  it('in shadow mode records the same patch without changing the Deployment', async () => {
    const action = restartAction(h.deps);
    const res = await action.run(
      action.params.parse({ namespace: 'shop', name: 'web' }),
      h.ctx({ shadow: true }),
    );
    expect(res.writes).toEqual([
      {
        method: 'PATCH',
        path: DEP_PATH,
        contentType: 'application/strategic-merge-patch+json',
        body: {
          spec: { template: { metadata: { annotations: { [RESTARTED_AT]: '2026-01-02T03:04:05Z' } } } },
        },
      },
    ]);
    expect(h.api.writes()).toEqual([]);
    expect(spec(h.api.get('deployments', 'shop', 'web')).template.metadata.annotations).toBeUndefined();
    expect(res.output.generation.after).toBeNull();
  });

  it('refuses a paused Deployment without writing', async () => {
    seedDeployment(h.api, { namespace: 'shop', name: 'held', paused: true });
    const action = restartAction(h.deps);
    await expect(
      action.run(action.params.parse({ namespace: 'shop', name: 'held' }), h.ctx()),
    ).rejects.toMatchObject({
      reason: 'Paused',
      retryable: false,
    });
    expect(h.api.writes()).toEqual([]);
  });
});

describe('k8s.rollback', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
    seedDeployment(h.api, { namespace: 'shop', name: 'web', replicas: 2, image: 'web:1' });
    setImage(h.api, 'shop', 'web', 'web:2');
    h.api.clearRequests();
  });
  afterEach(() => h.close());

  it('sends kubectl undo’s JSON patch built from the previous ReplicaSet and the controller re-uses it', async () => {
    const dep = h.api.get('deployments', 'shop', 'web')!;
    dep.metadata.annotations = { ...dep.metadata.annotations, 'team.example/owner': 'shop' };
    h.api.put('deployments', dep);
    const previous = h.api
      .list('replicasets', 'shop')
      .find((rs) => rs.metadata.annotations!['deployment.kubernetes.io/revision'] === '1')!;
    const action = rollbackAction(h.deps);
    const res = await action.run(action.params.parse({ namespace: 'shop', name: 'web' }), h.ctx());

    const expectedBody = [
      {
        op: 'replace',
        path: '/spec/template',
        value: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'web:1' }] },
        },
      },
      // The Deployment keeps its own revision annotation; other annotations come from the ReplicaSet.
      { op: 'replace', path: '/metadata/annotations', value: { 'deployment.kubernetes.io/revision': '2' } },
    ];
    expect(h.api.writes()).toEqual([
      {
        method: 'PATCH',
        path: DEP_PATH,
        query: {},
        contentType: 'application/json-patch+json',
        body: expectedBody,
      },
    ]);
    expect(res.output).toMatchObject({
      revision: { before: 2, after: 1 },
      images: { before: ['web:2'], after: ['web:1'] },
    });
    const after = h.api.get('deployments', 'shop', 'web')!;
    expect(spec(after).template.spec.containers[0]!.image).toBe('web:1');
    // Rolling back re-uses the old ReplicaSet and gives it the next revision.
    expect(after.metadata.annotations!['deployment.kubernetes.io/revision']).toBe('3');
    const reused = h.api.get('replicasets', 'shop', previous.metadata.name)!;
    expect(reused.metadata.annotations!['deployment.kubernetes.io/revision']).toBe('3');
    expect((reused['spec'] as { replicas: number }).replicas).toBe(2);
    expect(h.api.list('replicasets', 'shop')).toHaveLength(2);
  });

  it('goes to an asked revision and is a no-op when the template already matches', async () => {
    setImage(h.api, 'shop', 'web', 'web:3');
    const action = rollbackAction(h.deps);
    const to1 = await action.run(
      action.params.parse({ namespace: 'shop', name: 'web', toRevision: 1 }),
      h.ctx(),
    );
    expect(to1.output.images.after).toEqual(['web:1']);
    h.api.clearRequests();
    const again = await action.run(
      action.params.parse({ namespace: 'shop', name: 'web', toRevision: 4 }),
      h.ctx(),
    );
    expect(again.noop).toBe(true);
    expect(h.api.writes()).toEqual([]);
  });

  it('lists the ReplicaSets by the Deployment’s selector', async () => {
    const action = rollbackAction(h.deps);
    await action.run(action.params.parse({ namespace: 'shop', name: 'web' }), h.ctx({ shadow: true }));
    expect(h.api.requests.filter((r) => r.method === 'GET').map((r) => [r.path, r.query])).toEqual([
      [DEP_PATH, {}],
      ['/apis/apps/v1/namespaces/shop/replicasets', { labelSelector: 'app=web' }],
    ]);
  });

  it('in shadow mode returns the patch and leaves the Deployment on its revision', async () => {
    const action = rollbackAction(h.deps);
    const res = await action.run(
      action.params.parse({ namespace: 'shop', name: 'web' }),
      h.ctx({ shadow: true }),
    );
    expect(res.writes).toHaveLength(1);
    expect(res.writes[0]).toMatchObject({
      method: 'PATCH',
      path: DEP_PATH,
      contentType: 'application/json-patch+json',
    });
    expect(h.api.writes()).toEqual([]);
    expect(spec(h.api.get('deployments', 'shop', 'web')).template.spec.containers[0]!.image).toBe('web:2');
  });

  it('after a lost answer reads the Deployment again: an undo that landed is not undone by a retry', async () => {
    const image = () => spec(h.api.get('deployments', 'shop', 'web')).template.spec.containers[0]!.image;
    // The apiserver applies the undo, then answers 504. Retried, the action would see web:1 as the current
    // revision and "roll back" to web:2, the release it was undoing.
    landWithAnswerLost(h, () => setImage(h.api, 'shop', 'web', 'web:1'));
    const action = rollbackAction(h.deps);
    const params = action.params.parse({ namespace: 'shop', name: 'web' });
    const landed = await action.run(params, h.ctx());
    expect(landed.output).toMatchObject({ images: { before: ['web:2'], after: ['web:1'] } });
    expect(image()).toBe('web:1');
    expect(h.api.requests.filter((r) => r.path === DEP_PATH).map((r) => r.method)).toEqual([
      'GET',
      'PATCH',
      'GET',
    ]);

    // Asked again (a second incident, a retry), it does not roll forward to the release it undid.
    h.api.clearRequests();
    await expect(action.run(params, h.ctx())).rejects.toMatchObject({
      reason: 'AlreadyRolledBack',
      retryable: false,
    });
    expect(h.api.writes()).toEqual([]);
    expect(image()).toBe('web:1');
  });

  it('after an undo, refuses to undo it (the previous revision is the release it replaced) unless a revision is named', async () => {
    const action = rollbackAction(h.deps);
    const params = action.params.parse({ namespace: 'shop', name: 'web' });
    await action.run(params, h.ctx()); // web:2 → web:1, now revision 3 (revision-history 1)
    h.api.clearRequests();
    const err = await action.run(params, h.ctx()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'K8s.AlreadyRolledBack', retryable: false });
    expect((err as Error).message).toBe(
      'the current revision 3 of shop/web brought back an earlier pod template (that of revision 1), so the ' +
        'previous revision 2 is the release it replaced, and rolling back would bring that back; give ' +
        'toRevision to choose a revision',
    );
    expect(h.api.writes()).toEqual([]);
    // Named, it goes where it is told.
    const named = await action.run(
      action.params.parse({ namespace: 'shop', name: 'web', toRevision: 2 }),
      h.ctx(),
    );
    expect(named.output.images.after).toEqual(['web:2']);
    // A new release after that is rolled back as usual.
    setImage(h.api, 'shop', 'web', 'web:3');
    const next = await action.run(params, h.ctx());
    expect(next.output.images).toEqual({ before: ['web:3'], after: ['web:2'] });
  });

  it('when the undo landed unanswered and cannot be read back, fails as OutcomeUnknown, which no Retry repeats', async () => {
    const image = () => spec(h.api.get('deployments', 'shop', 'web')).template.spec.containers[0]!.image;
    landWithAnswerLost(h, () => {
      setImage(h.api, 'shop', 'web', 'web:1');
      h.api.failNext(1, { code: 503, reason: 'ServiceUnavailable' }, { method: 'GET' }); // the read back
    });
    const action = rollbackAction(h.deps);
    const err = await action
      .run(action.params.parse({ namespace: 'shop', name: 'web' }), h.ctx())
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'OutcomeUnknown', retryable: false, code: 'K8s.OutcomeUnknown' });
    expect((err as Error).message).toMatch(
      /HTTP 504 Timeout.*reading it back failed too .*HTTP 503.*whether it was applied is unknown/,
    );
    expect(image()).toBe('web:1');
  });

  it('refuses without history or with an unknown revision (not retryable)', async () => {
    seedDeployment(h.api, { namespace: 'shop', name: 'fresh' });
    const action = rollbackAction(h.deps);
    await expect(
      action.run(action.params.parse({ namespace: 'shop', name: 'fresh' }), h.ctx()),
    ).rejects.toMatchObject({ reason: 'NoHistory', retryable: false });
    await expect(
      action.run(action.params.parse({ namespace: 'shop', name: 'web', toRevision: 9 }), h.ctx()),
    ).rejects.toMatchObject({
      reason: 'RevisionNotFound',
      retryable: false,
    });
  });
});
