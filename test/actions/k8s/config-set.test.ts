import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSetAction } from '../../../src/actions/config/set.ts';
import { RESTARTED_AT } from '../../../src/actions/k8s/restart.ts';
import { seedConfigMap, seedDeployment } from '../../support/k8s-api/index.ts';
import { harness, type Harness } from './harness.ts';

const CM_PATH = '/api/v1/namespaces/shop/configmaps/flags';

describe('config.set', () => {
  let h: Harness;
  let rv: string;
  beforeEach(async () => {
    h = await harness();
    rv = seedConfigMap(h.api, 'shop', 'flags', { 'degraded-mode': 'off', other: 'x' }).metadata
      .resourceVersion!;
    seedDeployment(h.api, { namespace: 'shop', name: 'web' });
    h.api.clearRequests();
  });
  afterEach(() => h.close());

  it('merge-patches the key with the resourceVersion it read', async () => {
    const action = configSetAction(h.deps);
    const res = await action.run(
      action.params.parse({ namespace: 'shop', name: 'flags', key: 'degraded-mode', value: 'on' }),
      h.ctx(),
    );
    const body = { metadata: { resourceVersion: rv }, data: { 'degraded-mode': 'on' } };
    expect(h.api.writes()).toEqual([
      { method: 'PATCH', path: CM_PATH, query: {}, contentType: 'application/merge-patch+json', body },
    ]);
    expect(res.output).toMatchObject({ key: 'degraded-mode', value: { before: 'off', after: 'on' } });
    expect(h.api.get('configmaps', 'shop', 'flags')!['data']).toEqual({ 'degraded-mode': 'on', other: 'x' });
  });

  it('restarts the Deployment afterwards when asked', async () => {
    const action = configSetAction(h.deps);
    const res = await action.run(
      action.params.parse({
        namespace: 'shop',
        name: 'flags',
        key: 'degraded-mode',
        value: 'on',
        restartDeployment: 'web',
      }),
      h.ctx(),
    );
    expect(h.api.writes().map((w) => [w.method, w.path, w.contentType])).toEqual([
      ['PATCH', CM_PATH, 'application/merge-patch+json'],
      ['PATCH', '/apis/apps/v1/namespaces/shop/deployments/web', 'application/strategic-merge-patch+json'],
    ]);
    expect(res.output.restart).toMatchObject({
      deployment: 'web',
      restartedAt: { after: '2026-01-02T03:04:05Z' },
    });
    const tmpl = (
      h.api.get('deployments', 'shop', 'web')!['spec'] as {
        template: { metadata: { annotations: Record<string, string> } };
      }
    ).template;
    expect(tmpl.metadata.annotations[RESTARTED_AT]).toBe('2026-01-02T03:04:05Z');
  });

  it('shadow mode records the patch and leaves the ConfigMap alone', async () => {
    const action = configSetAction(h.deps);
    const res = await action.run(
      action.params.parse({ namespace: 'shop', name: 'flags', key: 'degraded-mode', value: 'on' }),
      h.ctx({ shadow: true }),
    );
    expect(res.writes).toEqual([
      {
        method: 'PATCH',
        path: CM_PATH,
        contentType: 'application/merge-patch+json',
        body: { metadata: { resourceVersion: rv }, data: { 'degraded-mode': 'on' } },
      },
    ]);
    expect(h.api.writes()).toEqual([]);
    expect(h.api.get('configmaps', 'shop', 'flags')!['data']).toEqual({ 'degraded-mode': 'off', other: 'x' });
  });

  it('a concurrent change between read and write is a retryable 409', async () => {
    h.api.onRequest((r) => {
      if (r.method === 'PATCH') {
        const cm = h.api.get('configmaps', 'shop', 'flags')!;
        h.api.put('configmaps', { ...cm, data: { 'degraded-mode': 'auto' } });
      }
    });
    const action = configSetAction(h.deps);
    await expect(
      action.run(
        action.params.parse({ namespace: 'shop', name: 'flags', key: 'degraded-mode', value: 'on' }),
        h.ctx(),
      ),
    ).rejects.toMatchObject({ status: 409, reason: 'Conflict', retryable: true });
    expect(h.api.get('configmaps', 'shop', 'flags')!['data']).toEqual({ 'degraded-mode': 'auto' });
  });

  it('is a no-op when the key already has the value', async () => {
    const action = configSetAction(h.deps);
    const res = await action.run(
      action.params.parse({ namespace: 'shop', name: 'flags', key: 'degraded-mode', value: 'off' }),
      h.ctx(),
    );
    expect(res.noop).toBe(true);
    expect(h.api.writes()).toEqual([]);
  });
});
