import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { kubernetesActions } from '../../../src/actions/k8s/index.ts';
import { ActionRegistry } from '../../../src/actions/registry.ts';
import type { WriteRequest } from '../../../src/actions/types.ts';
import { seedConfigMap, seedDeployment, seedNode, setImage } from '../../support/k8s-api/index.ts';
import { harness, type Harness } from './harness.ts';

/**
 * For every mutating action: the writes a shadow run records are exactly the writes the real run then
 * sends (and the server receives), and the shadow run changed nothing.
 */

const byPath = (a: WriteRequest, b: WriteRequest) => a.path.localeCompare(b.path);

describe('shadow mode records exactly what the real run sends', () => {
  let h: Harness;
  let registry: ActionRegistry;
  beforeEach(async () => {
    h = await harness();
    registry = new ActionRegistry(kubernetesActions(h.deps));
    seedNode(h.api, 'n1');
    seedDeployment(h.api, { namespace: 'shop', name: 'web', replicas: 2 });
    setImage(h.api, 'shop', 'web', 'web:2');
    seedNode(h.api, 'n2');
    seedConfigMap(h.api, 'shop', 'flags', { mode: 'normal' });
  });
  afterEach(() => h.close());

  const cases: [string, () => Record<string, unknown>][] = [
    ['k8s.scale', () => ({ namespace: 'shop', name: 'web', replicas: 4 })],
    ['k8s.restart', () => ({ namespace: 'shop', name: 'web' })],
    ['k8s.rollback', () => ({ namespace: 'shop', name: 'web' })],
    ['config.set', () => ({ namespace: 'shop', name: 'flags', key: 'mode', value: 'degraded' })],
    ['k8s.cordon', () => ({ name: 'n1' })],
    ['k8s.drain', () => ({ name: 'n1' })],
    ['k8s.deletePod', () => ({ namespace: 'shop', selector: 'app=web', maxCount: 2 })],
  ];

  it.each(cases)('%s', async (name, params) => {
    const snapshot = JSON.stringify([
      h.api.list('deployments'),
      h.api.list('configmaps'),
      h.api.list('nodes'),
      h.api.list('pods'),
    ]);
    h.api.clearRequests();
    const shadow = await registry.run(name, params(), h.ctx({ shadow: true }));
    expect(h.api.writes()).toEqual([]);
    expect(
      JSON.stringify([
        h.api.list('deployments'),
        h.api.list('configmaps'),
        h.api.list('nodes'),
        h.api.list('pods'),
      ]),
    ).toBe(snapshot);
    expect(shadow.writes.length).toBeGreaterThan(0);

    const real = await registry.run(name, params(), h.ctx());
    expect([...real.writes].sort(byPath)).toEqual([...shadow.writes].sort(byPath));
    const received = h.api.writes().map((r) => ({
      method: r.method,
      path: r.path,
      ...(r.contentType === undefined ? {} : { contentType: r.contentType }),
      ...(r.body === undefined ? {} : { body: r.body }),
    }));
    expect(received.sort(byPath)).toEqual([...shadow.writes].sort(byPath));
  });
});
