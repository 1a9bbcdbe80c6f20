import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClusterDirectory, kubernetesConfigSchema, loadKubeConfig } from '../../../src/actions/k8s/config.ts';
import { kubernetesActions } from '../../../src/actions/k8s/index.ts';
import { ActionRegistry } from '../../../src/actions/registry.ts';
import { actionCommand } from '../../../src/cli/commands/action.ts';
import { ReboundError } from '../../../src/errors.ts';
import { kubeconfigYaml, seedDeployment } from '../../support/k8s-api/index.ts';
import { harness, type Harness } from './harness.ts';

describe('ActionRegistry', () => {
  let h: Harness;
  let registry: ActionRegistry;
  beforeEach(async () => {
    h = await harness();
    registry = new ActionRegistry(kubernetesActions(h.deps));
  });
  afterEach(() => h.close());

  it('validates parameters and names the offending field', async () => {
    const err = await registry
      .run('k8s.scale', { namespace: 'shop', name: 'web', replicas: -1 }, h.ctx())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReboundError);
    expect(err).toMatchObject({ code: 'INVALID_PAYLOAD', path: 'replicas' });
    expect((err as Error).message).toMatch(/^invalid parameters for k8s\.scale: replicas: /);
    await expect(registry.run('k8s.restart', { namespace: 'shop' }, h.ctx())).rejects.toMatchObject({
      code: 'INVALID_PAYLOAD',
      path: 'name',
    });
    await expect(registry.run('k8s.restart', { name: 'web', bogus: 1 }, h.ctx())).rejects.toMatchObject({
      code: 'INVALID_PAYLOAD',
    });
    expect(h.api.requests).toEqual([]);
  });

  it('runs a valid call, reports unknown actions and refuses duplicates', async () => {
    seedDeployment(h.api, { namespace: 'shop', name: 'web', replicas: 1 });
    const res = await registry.run('k8s.scale', { namespace: 'shop', name: 'web', replicas: 2 }, h.ctx());
    expect(res.output).toMatchObject({ replicas: { before: 1, after: 2 } });
    expect(registry.has('k8s.drain')).toBe(true);
    await expect(registry.run('k8s.explode', {}, h.ctx())).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(() => registry.register(kubernetesActions(h.deps)[0]!)).toThrow(/registered twice/);
    expect(registry.target('k8s.scale', { namespace: 'shop', name: 'web', replicas: 2 })).toEqual({
      cluster: 'prod',
      namespace: 'shop',
      kind: 'Deployment',
      name: 'web',
    });
    expect(registry.target('k8s.waitRollout', { namespace: 'shop', name: 'web' })).toBeUndefined();
  });

  it('lists every action with the JSON Schema of its parameters', () => {
    const list = registry.list();
    expect(list.map((a) => a.name)).toEqual([
      'config.set',
      'k8s.cordon',
      'k8s.deletePod',
      'k8s.drain',
      'k8s.restart',
      'k8s.rollback',
      'k8s.scale',
      'k8s.uncordon',
      'k8s.waitRollout',
    ]);
    const scale = list.find((a) => a.name === 'k8s.scale')!;
    expect(scale.mutating).toBe(true);
    expect(scale.params).toMatchObject({
      type: 'object',
      required: ['name'],
      properties: { replicas: { type: 'integer', minimum: 0 } },
    });
    expect(list.find((a) => a.name === 'k8s.waitRollout')!.mutating).toBe(false);
  });
});

describe('clusters and kubeconfig', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kc-merge-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('merges a KUBECONFIG path list like kubectl: first definition and first current-context win', async () => {
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.yaml');
    await writeFile(a, kubeconfigYaml('http://127.0.0.1:1111', 'alpha'));
    await writeFile(b, kubeconfigYaml('http://127.0.0.1:2222', 'beta'));
    const kc = loadKubeConfig({}, { kubeconfigEnv: [a, join(dir, 'missing.yaml'), b].join(delimiter) });
    expect(kc.getCurrentContext()).toBe('alpha');
    expect(kc.getCurrentCluster()!.server).toBe('http://127.0.0.1:1111');
    const beta = loadKubeConfig({ context: 'beta' }, { kubeconfigEnv: [a, b].join(delimiter) });
    expect(beta.getCurrentCluster()!.server).toBe('http://127.0.0.1:2222');
    expect(() => loadKubeConfig({ context: 'gamma' }, { kubeconfigEnv: a })).toThrow(
      /context "gamma" is not in/,
    );
    expect(() => loadKubeConfig({}, { homeDir: dir })).toThrow(/no kubeconfig found/);
  });

  it('chooses the cluster by parameter, then alert label, then default', () => {
    const config = kubernetesConfigSchema.parse({
      defaultCluster: 'eu',
      clusters: { eu: { inCluster: true }, us: { kubeconfig: '/x', context: 'us' } },
    });
    const clusters = new ClusterDirectory(config);
    expect(clusters.select('us', { cluster: 'eu' })).toBe('us');
    expect(clusters.select(undefined, { cluster: 'us' })).toBe('us');
    expect(clusters.select()).toBe('eu');
    expect(() => clusters.select('mars')).toThrow(/unknown cluster "mars"; configured clusters: eu, us/);
    expect(
      kubernetesConfigSchema.safeParse({ clusters: { x: { inCluster: true, kubeconfig: '/y' } } }).success,
    ).toBe(false);
  });

  it('applies the most specific scale bounds', () => {
    const config = kubernetesConfigSchema.parse({
      scaleBounds: [
        { namespace: 'shop', name: 'web', min: 2, max: 10 },
        { cluster: 'eu', namespace: 'shop', name: 'web', min: 0, max: 4, allowZero: true },
      ],
    });
    const clusters = new ClusterDirectory(config);
    expect(clusters.scaleBounds('eu', 'shop', 'web')).toMatchObject({ min: 0, max: 4, allowZero: true });
    expect(clusters.scaleBounds('us', 'shop', 'web')).toMatchObject({ min: 2, max: 10 });
    expect(clusters.scaleBounds('us', 'shop', 'api')).toEqual({ min: 1, max: 20, allowZero: false });
  });
});

describe('rebound action', () => {
  let h: Harness;
  let out: string[];
  beforeEach(async () => {
    h = await harness();
    seedDeployment(h.api, { namespace: 'shop', name: 'web', replicas: 2 });
    h.api.clearRequests();
    out = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await h.close();
  });

  const run = (args: string[]) =>
    actionCommand({
      kubeconfigEnv: h.kubeconfig,
      loadKubernetesSection: async () => ({ clusters: { prod: {} }, preflightDryRun: false }),
    }).parseAsync(args, {
      from: 'user',
    });

  it('run --shadow prints the writes it would send and changes nothing', async () => {
    await run([
      'run',
      'k8s.scale',
      '--params',
      '{"namespace":"shop","name":"web","replicas":4}',
      '--shadow',
      '--cluster',
      'prod',
    ]);
    const printed = JSON.parse(out.join('')) as Record<string, unknown>;
    expect(printed).toMatchObject({
      action: 'k8s.scale',
      shadow: true,
      output: { cluster: 'prod', replicas: { before: 2, after: 4 } },
      writes: [
        {
          method: 'PATCH',
          path: '/apis/apps/v1/namespaces/shop/deployments/web/scale',
          contentType: 'application/merge-patch+json',
          body: { spec: { replicas: 4 } },
        },
      ],
    });
    expect(h.api.writes()).toEqual([]);
  });

  it('run acts for real with an explicit --kubeconfig', async () => {
    await actionCommand().parseAsync(
      [
        'run',
        'k8s.scale',
        '--kubeconfig',
        h.kubeconfig,
        '--params',
        '{"namespace":"shop","name":"web","replicas":3}',
      ],
      { from: 'user' },
    );
    expect(JSON.parse(out.join(''))).toMatchObject({
      shadow: false,
      output: { cluster: 'cli', replicas: { after: 3 } },
    });
    // Without configuration the pre-flight dry run is on: the server validates first, then the real write.
    expect(h.api.writes().map((w) => w.query)).toEqual([{ dryRun: 'All' }, {}]);
    expect((h.api.get('deployments', 'shop', 'web')!['spec'] as { replicas: number }).replicas).toBe(3);
  });

  it('list prints the actions with their schemas', async () => {
    await run(['list', '-o', 'json']);
    const list = JSON.parse(out.join('')) as { name: string; params: unknown }[];
    expect(list.map((a) => a.name)).toContain('k8s.drain');
  });

  it('rejects --params that is not a JSON object', async () => {
    await expect(run(['run', 'k8s.scale', '--params', '[1]'])).rejects.toThrow(/must be a JSON object/);
  });
});
