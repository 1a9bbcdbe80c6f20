import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  KubeApiDouble,
  podTemplateHash,
  seedDeployment,
  seedNode,
  setImage,
  writeKubeconfig,
} from './k8s-api/index.ts';
import { jsonPatch, mergePatch, strategicMergePatch, type Json } from './k8s-api/patch.ts';

/**
 * Pins each behaviour of the Kubernetes API double to its upstream documentation, so the actions' tests
 * against it mean something. Requests are sent with fetch to assert the exact wire form.
 */

let api: KubeApiDouble;
beforeEach(async () => {
  api = new KubeApiDouble({ now: () => new Date('2026-01-02T03:04:05Z') });
  await api.start();
});
afterEach(() => api.stop());

async function call(method: string, path: string, body?: unknown, contentType = 'application/json') {
  const res = await fetch(api.url + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': contentType },
    body: body === undefined ? null : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const DEP = '/apis/apps/v1/namespaces/default/deployments/web';

describe('client-node through a normal kubeconfig file', () => {
  it('loads the written kubeconfig and reads and lists objects', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kc-'));
    try {
      seedDeployment(api, { name: 'web', replicas: 2 });
      const kc = new KubeConfig();
      kc.loadFromFile(await writeKubeconfig(dir, api.url));
      const dep = await kc
        .makeApiClient(AppsV1Api)
        .readNamespacedDeployment({ name: 'web', namespace: 'default' });
      expect(dep.spec?.replicas).toBe(2);
      const pods = await kc
        .makeApiClient(CoreV1Api)
        .listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' });
      expect(pods.items).toHaveLength(2);
      expect(api.requests[0]!.path).toBe(DEP);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions and the Status kind
// (https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/status/).
describe('errors as Status objects', () => {
  it('404 NotFound names the qualified resource', async () => {
    const res = await call('GET', '/apis/apps/v1/namespaces/default/deployments/missing');
    expect(res).toEqual({
      status: 404,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'deployments.apps "missing" not found',
        reason: 'NotFound',
        details: { name: 'missing', group: 'apps', kind: 'deployments' },
        code: 404,
      },
    });
  });

  it('unknown paths are 404 and unsupported verbs 405', async () => {
    expect((await call('GET', '/apis/apps/v1/namespaces/default/statefulsets')).status).toBe(404);
    expect((await call('PATCH', '/api/v1/namespaces/default/pods', {})).status).toBe(405);
  });

  it('a stale resourceVersion on PUT or PATCH is 409 Conflict; no resourceVersion is an unconditional update', async () => {
    seedDeployment(api, { name: 'web' });
    const current = (await call('GET', DEP)).body as { metadata: { resourceVersion: string } };
    const stale = { ...current, metadata: { ...current.metadata, resourceVersion: '1' } };
    const put = await call('PUT', DEP, stale);
    expect(put.status).toBe(409);
    expect(put.body).toMatchObject({
      reason: 'Conflict',
      message: expect.stringContaining('the object has been modified') as unknown,
    });
    const patch = await call(
      'PATCH',
      DEP,
      { metadata: { resourceVersion: '1' }, spec: { replicas: 5 } },
      'application/merge-patch+json',
    );
    expect(patch.status).toBe(409);
    const ok = await call('PATCH', DEP, { spec: { replicas: 5 } }, 'application/merge-patch+json');
    expect(ok.status).toBe(200);
    expect(Number((ok.body['metadata'] as { resourceVersion: string }).resourceVersion)).toBeGreaterThan(
      Number(current.metadata.resourceVersion),
    );
  });

  it('invalid objects are 422 Invalid with field causes', async () => {
    seedDeployment(api, { name: 'web' });
    const res = await call('PATCH', DEP, { spec: { replicas: -1 } }, 'application/merge-patch+json');
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ reason: 'Invalid', details: { causes: [{ field: 'spec.replicas' }] } });
    const immutable = await call(
      'PATCH',
      DEP,
      { spec: { selector: { matchLabels: { app: 'other' } } } },
      'application/merge-patch+json',
    );
    expect(immutable.status).toBe(422);
  });
});

// https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/
describe('PATCH by content type', () => {
  beforeEach(() => {
    seedDeployment(api, { name: 'web' });
  });

  it('rejects an unsupported patch content type with 415', async () => {
    const res = await call('PATCH', DEP, { spec: { replicas: 1 } }, 'application/json');
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({ reason: 'UnsupportedMediaType' });
  });

  it('strategic merge merges containers by name where merge patch replaces the list', async () => {
    const sidecar = { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'envoy' }] } } } };
    const smp = await call('PATCH', DEP, sidecar, 'application/strategic-merge-patch+json');
    expect(
      (
        smp.body as { spec: { template: { spec: { containers: { name: string }[] } } } }
      ).spec.template.spec.containers.map((c) => c.name),
    ).toEqual(['web', 'sidecar']);
    const mp = await call(
      'PATCH',
      DEP,
      { spec: { template: { spec: { containers: [{ name: 'web', image: 'web:9' }] } } } },
      'application/merge-patch+json',
    );
    expect(
      (mp.body as { spec: { template: { spec: { containers: unknown[] } } } }).spec.template.spec.containers,
    ).toEqual([{ name: 'web', image: 'web:9' }]);
  });

  it('applies JSON patch operations and fails the whole patch on a failed test op', async () => {
    const ok = await call(
      'PATCH',
      DEP,
      [{ op: 'replace', path: '/spec/replicas', value: 4 }],
      'application/json-patch+json',
    );
    expect((ok.body as { spec: { replicas: number } }).spec.replicas).toBe(4);
    const bad = await call(
      'PATCH',
      DEP,
      [
        { op: 'replace', path: '/spec/replicas', value: 1 },
        { op: 'test', path: '/spec/replicas', value: 7 },
      ],
      'application/json-patch+json',
    );
    expect(bad.status).toBe(422);
    expect((api.get('deployments', 'default', 'web')!['spec'] as { replicas: number }).replicas).toBe(4);
  });

  it('ignores .status in writes to the main resource (status is a subresource)', async () => {
    const res = await call('PATCH', DEP, { status: { replicas: 99 } }, 'application/merge-patch+json');
    expect((res.body as { status: { replicas: number } }).status.replicas).toBe(2);
  });
});

describe('patch algorithms (RFC 6902, RFC 7386, strategic merge)', () => {
  it('RFC 7386 examples: null deletes, arrays replace', () => {
    expect(mergePatch({ a: 'b', c: { d: 'e', f: 'g' } }, { a: 'z', c: { f: null } })).toEqual({
      a: 'z',
      c: { d: 'e' },
    });
    expect(mergePatch({ a: [1, 2] }, { a: [3] })).toEqual({ a: [3] });
  });
  it('RFC 6902 add/remove/move/copy with ~ escapes', () => {
    const doc = { 'a/b': 1, list: [1, 3] };
    expect(
      jsonPatch(doc, [
        { op: 'add', path: '/list/1', value: 2 },
        { op: 'remove', path: '/a~1b' },
        { op: 'copy', from: '/list/0', path: '/first' },
      ]),
    ).toEqual({ list: [1, 2, 3], first: 1 });
  });
  it('strategic merge honours $patch: delete in keyed lists and null for keys', () => {
    const target: Json = {
      containers: [
        { name: 'a', image: 'x', env: [{ name: 'K', value: '1' }] },
        { name: 'b', image: 'y' },
      ],
      paused: true,
    };
    const patch: Json = {
      containers: [
        { name: 'a', env: [{ name: 'L', value: '2' }] },
        { name: 'b', $patch: 'delete' },
      ],
      paused: null,
    };
    expect(strategicMergePatch(target, patch)).toEqual({
      containers: [
        {
          name: 'a',
          image: 'x',
          env: [
            { name: 'K', value: '1' },
            { name: 'L', value: '2' },
          ],
        },
      ],
    });
  });
});

// https://kubernetes.io/docs/reference/using-api/api-concepts/#dry-run
describe('dryRun=All', () => {
  it('validates and answers as if persisted, without persisting', async () => {
    seedDeployment(api, { name: 'web' });
    const res = await call(
      'PATCH',
      `${DEP}/scale?dryRun=All`,
      { spec: { replicas: 7 } },
      'application/merge-patch+json',
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ kind: 'Scale', spec: { replicas: 7 } });
    expect((api.get('deployments', 'default', 'web')!['spec'] as { replicas: number }).replicas).toBe(2);
    const invalid = await call(
      'PATCH',
      `${DEP}?dryRun=All`,
      { spec: { replicas: -3 } },
      'application/merge-patch+json',
    );
    expect(invalid.status).toBe(422);
    expect((await call('PATCH', `${DEP}?dryRun=Some`, {}, 'application/merge-patch+json')).status).toBe(400);
  });
});

// https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors and field-selectors/
describe('selectors', () => {
  beforeEach(() => {
    seedNode(api, 'n1');
    seedDeployment(api, { name: 'web', replicas: 1 });
    seedNode(api, 'n2');
    seedDeployment(api, { name: 'api', replicas: 1 });
  });
  it('filters by label (equality and set based) and by spec.nodeName', async () => {
    const names = async (q: string) =>
      ((await call('GET', `/api/v1/pods?${q}`)).body['items'] as { metadata: { name: string } }[]).map(
        (p) => p.metadata.name.split('-')[0],
      );
    expect(await names('labelSelector=app%3Dweb')).toEqual(['web']);
    expect(await names('labelSelector=app%20in%20(web,api)')).toEqual(['api', 'web']);
    expect(await names('labelSelector=app!%3Dweb')).toEqual(['api']);
    expect(await names('fieldSelector=spec.nodeName%3Dn2')).toEqual(['api']);
    const bad = await call('GET', '/api/v1/pods?fieldSelector=spec.hostname%3Dx');
    expect(bad).toMatchObject({ status: 400, body: { message: 'field label not supported: spec.hostname' } });
  });
});

// https://kubernetes.io/docs/concepts/workloads/controllers/deployment/ (pod-template-hash, revisions, rollback)
describe('the Deployment controller', () => {
  it('creates a ReplicaSet per template with pod-template-hash and revision annotations', () => {
    seedDeployment(api, { name: 'web', replicas: 2, image: 'web:1' });
    setImage(api, 'default', 'web', 'web:2');
    const rss = api
      .list('replicasets', 'default')
      .sort(
        (a, b) =>
          Number(a.metadata.annotations!['deployment.kubernetes.io/revision']) -
          Number(b.metadata.annotations!['deployment.kubernetes.io/revision']),
      );
    expect(
      rss.map((r) => [
        r.metadata.annotations!['deployment.kubernetes.io/revision'],
        (r['spec'] as { replicas: number }).replicas,
      ]),
    ).toEqual([
      ['1', 0],
      ['2', 2],
    ]);
    const hash = rss[1]!.metadata.labels!['pod-template-hash']!;
    expect(rss[1]!.metadata.name).toBe(`web-${hash}`);
    expect(hash).toBe(
      podTemplateHash((api.get('deployments', 'default', 'web')!['spec'] as { template: never }).template),
    );
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    const dep = api.get('deployments', 'default', 'web')!;
    expect(dep.metadata.annotations!['deployment.kubernetes.io/revision']).toBe('2');
    expect(dep['status']).toMatchObject({
      observedGeneration: 2,
      replicas: 2,
      updatedReplicas: 2,
      availableReplicas: 2,
    });
    expect(api.list('pods', 'default').every((p) => p.metadata.labels!['pod-template-hash'] === hash)).toBe(
      true,
    );
  });

  it('scale subresource reads and writes spec.replicas', async () => {
    seedDeployment(api, { name: 'web', replicas: 2 });
    const scale = await call('GET', `${DEP}/scale`);
    expect(scale.body).toMatchObject({
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      spec: { replicas: 2 },
      status: { replicas: 2, selector: 'app=web' },
    });
    await call('PATCH', `${DEP}/scale`, { spec: { replicas: 4 } }, 'application/merge-patch+json');
    expect(api.list('pods', 'default')).toHaveLength(4);
  });

  it('a paused Deployment does not roll out a new template', () => {
    const dep = seedDeployment(api, { name: 'web', image: 'web:1' });
    api.put('deployments', { ...dep, spec: { ...(dep['spec'] as object), paused: true } });
    setImage(api, 'default', 'web', 'web:2');
    expect(api.list('replicasets', 'default')).toHaveLength(1);
  });

  // deployment/util SetNewReplicaSetAnnotations (copyDeploymentAnnotationsToReplicaSet, skipCopyAnnotation).
  it('copies a later annotation of the Deployment onto its current ReplicaSet, but not its bookkeeping', async () => {
    seedDeployment(api, { name: 'web', image: 'web:1' });
    const annotate = {
      metadata: {
        annotations: { 'kubernetes.io/change-cause': 'hotfix', 'deprecated.deployment.rollback.to': '1' },
      },
    };
    expect((await call('PATCH', DEP, annotate, 'application/merge-patch+json')).status).toBe(200);
    const [rs] = api.list('replicasets', 'default');
    expect(rs!.metadata.annotations).toMatchObject({ 'kubernetes.io/change-cause': 'hotfix' });
    expect(rs!.metadata.annotations).not.toHaveProperty('deprecated.deployment.rollback.to');
    // Paused with a new template, the ReplicaSet it keeps running is not of its template: it gets none.
    const dep = api.get('deployments', 'default', 'web')!;
    api.put('deployments', { ...dep, spec: { ...(dep['spec'] as object), paused: true } });
    setImage(api, 'default', 'web', 'web:2');
    const later = { metadata: { annotations: { 'kubernetes.io/change-cause': 'image web:2' } } };
    expect((await call('PATCH', DEP, later, 'application/merge-patch+json')).status).toBe(200);
    expect(api.list('replicasets', 'default')[0]!.metadata.annotations).toMatchObject({
      'kubernetes.io/change-cause': 'hotfix',
    });
  });
});

// https://kubernetes.io/docs/concepts/scheduling-eviction/api-eviction/ — the page lists "200 OK" for an
// allowed eviction; the apiserver's create handler actually answers 201 with a Success Status, as here.
describe('Eviction with PodDisruptionBudgets', () => {
  const evict = (name: string) =>
    call('POST', `/api/v1/namespaces/default/pods/${name}/eviction`, {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name, namespace: 'default' },
    });

  it('429 while the budget allows no disruption, then allowed; 404 once gone', async () => {
    seedDeployment(api, { name: 'web', replicas: 2 });
    api.put('poddisruptionbudgets', {
      metadata: { name: 'pdb', namespace: 'default' },
      spec: { maxUnavailable: 0, selector: { matchLabels: { app: 'web' } } },
    });
    const pod = api.list('pods', 'default')[0]!.metadata.name;
    const blocked = await evict(pod);
    expect(blocked.status).toBe(429);
    expect(blocked.body).toMatchObject({
      reason: 'TooManyRequests',
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      details: {
        causes: [
          {
            reason: 'DisruptionBudget',
            message: 'The disruption budget pdb needs 2 healthy pods and has 2 currently',
          },
        ],
      },
    });
    const pdb = await call('GET', '/apis/policy/v1/namespaces/default/poddisruptionbudgets/pdb');
    expect(pdb.body['status']).toMatchObject({
      currentHealthy: 2,
      desiredHealthy: 2,
      disruptionsAllowed: 0,
      expectedPods: 2,
    });
    api.put('poddisruptionbudgets', {
      metadata: { name: 'pdb', namespace: 'default' },
      spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } },
    });
    expect((await evict(pod)).status).toBe(201);
    expect(api.get('pods', 'default', pod)).toBeUndefined();
    expect((await evict(pod)).status).toBe(404);
  });

  it('an unready pod goes only while the application is healthy enough, or with AlwaysAllow', async () => {
    seedDeployment(api, { name: 'web', replicas: 3 });
    const pods = api.list('pods', 'default');
    // Two of three crash-loop (Running, not Ready).
    for (const p of pods.slice(0, 2))
      api.put('pods', {
        ...p,
        status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] },
      });
    const sick = pods[0]!.metadata.name;
    const budget = (spec: Record<string, unknown>) =>
      api.put('poddisruptionbudgets', {
        metadata: { name: 'pdb', namespace: 'default' },
        spec: { selector: { matchLabels: { app: 'web' } }, ...spec },
      });
    budget({ minAvailable: 3 }); // 1 healthy of 3 wanted: IfHealthyBudget falls back to the budget, 0 allowed
    expect((await evict(sick)).status).toBe(429);
    budget({ minAvailable: 1 }); // 1 healthy of 1 wanted: the sick pod may go
    expect((await evict(sick)).status).toBe(201);
    budget({ minAvailable: 3, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
    expect((await evict(pods[1]!.metadata.name)).status).toBe(201);
    // A pod that has finished is evicted without looking at any budget.
    api.put('pods', { ...pods[2]!, status: { phase: 'Succeeded' } });
    budget({ maxUnavailable: 0 });
    expect((await evict(pods[2]!.metadata.name)).status).toBe(201);
  });

  it('500 when more than one budget covers the pod', async () => {
    seedDeployment(api, { name: 'web', replicas: 2 });
    for (const name of ['a', 'b'])
      api.put('poddisruptionbudgets', {
        metadata: { name, namespace: 'default' },
        spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } },
      });
    expect((await evict(api.list('pods', 'default')[0]!.metadata.name)).status).toBe(500);
  });
});

describe('test hooks', () => {
  it('records every request and fails the next N matching requests with a Status', async () => {
    seedDeployment(api, { name: 'web' });
    api.failNext(2, { code: 503, reason: 'ServiceUnavailable' }, { method: 'GET' });
    expect((await call('GET', DEP)).status).toBe(503);
    expect((await call('GET', DEP)).status).toBe(503);
    expect((await call('GET', DEP)).status).toBe(200);
    expect(api.requests.map((r) => [r.method, r.path])).toEqual([
      ['GET', DEP],
      ['GET', DEP],
      ['GET', DEP],
    ]);
  });
});
