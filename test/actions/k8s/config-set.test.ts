import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSetAction } from '../../../src/actions/config/set.ts';
import { seedConfigMap, seedDeployment } from '../../support/k8s-api/index.ts';
import { harness, landWithAnswerLost, type Harness } from './harness.ts';

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

  it('does not restart a Deployment itself: that is k8s.restart, a step the guard rails judge on its own', () => {
    const action = configSetAction(h.deps);
    const parsed = action.params.safeParse({
      namespace: 'shop',
      name: 'flags',
      key: 'degraded-mode',
      value: 'on',
      restartDeployment: 'web',
    });
    expect(parsed.success).toBe(false);
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

  it('after a lost answer reads the key again: a value that landed keeps the before it replaced', async () => {
    // The apiserver applies the patch, then answers 504: a retry would read "on" and report it as before.
    landWithAnswerLost(h, () => {
      const cm = h.api.get('configmaps', 'shop', 'flags')!;
      h.api.put('configmaps', { ...cm, data: { 'degraded-mode': 'on', other: 'x' } });
    });
    const action = configSetAction(h.deps);
    const params = action.params.parse({
      namespace: 'shop',
      name: 'flags',
      key: 'degraded-mode',
      value: 'on',
    });
    const landed = await action.run(params, h.ctx());
    expect(landed.noop).toBeUndefined();
    expect(landed.output.value).toEqual({ before: 'off', after: 'on' });
    expect(h.api.requests.map((r) => r.method)).toEqual(['GET', 'PATCH', 'GET']);

    // Lost with nothing applied: the attempt fails, retryable, and the value is untouched.
    h.api.failNext(1, { code: 504, reason: 'Timeout' }, { method: 'PATCH' });
    const off = action.params.parse({ namespace: 'shop', name: 'flags', key: 'degraded-mode', value: 'off' });
    await expect(action.run(off, h.ctx())).rejects.toMatchObject({ status: 504, retryable: true });
    expect(h.api.get('configmaps', 'shop', 'flags')!['data']).toMatchObject({ 'degraded-mode': 'on' });
  });

  it('removes the key for null, so a compensating step can restore a key that was absent', async () => {
    const action = configSetAction(h.deps);
    const set = await action.run(
      action.params.parse({ namespace: 'shop', name: 'flags', key: 'new-flag', value: 'on' }),
      h.ctx(),
    );
    expect(set.output.value).toEqual({ before: null, after: 'on' });
    const read = h.api.get('configmaps', 'shop', 'flags')!['metadata'] as { resourceVersion: string };
    h.api.clearRequests();
    const undo = await action.run(
      action.params.parse({
        namespace: 'shop',
        name: 'flags',
        key: 'new-flag',
        value: set.output.value.before,
      }),
      h.ctx(),
    );
    const cm = h.api.get('configmaps', 'shop', 'flags')!;
    expect(h.api.writes()).toEqual([
      {
        method: 'PATCH',
        path: CM_PATH,
        query: {},
        contentType: 'application/merge-patch+json',
        body: { metadata: { resourceVersion: read.resourceVersion }, data: { 'new-flag': null } },
      },
    ]);
    expect(undo.output.value).toEqual({ before: 'on', after: null });
    expect(cm['data']).toEqual({ 'degraded-mode': 'off', other: 'x' });
    // Removing a key that is not there writes nothing.
    h.api.clearRequests();
    const again = await action.run(
      action.params.parse({ namespace: 'shop', name: 'flags', key: 'new-flag', value: null }),
      h.ctx(),
    );
    expect(again.noop).toBe(true);
    expect(h.api.writes()).toEqual([]);
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
