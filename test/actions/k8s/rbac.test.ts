import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { kubernetesActions } from '../../../src/actions/k8s/index.ts';
import { ActionRegistry } from '../../../src/actions/registry.ts';
import {
  parseRoute,
  seedConfigMap,
  seedDeployment,
  seedDaemonSetPod,
  seedNode,
  setImage,
  type RecordedRequest,
} from '../../support/k8s-api/index.ts';
import { harness } from './harness.ts';

/** The shipped RBAC grants exactly what the actions use, and nothing more. */

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}
interface Doc {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: Rule[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace: string }[];
}

async function load(file: string): Promise<Doc[]> {
  const text = await readFile(join(import.meta.dirname, '../../../deploy/rbac', file), 'utf8');
  return parseAllDocuments(text).map((d) => {
    expect(d.errors).toEqual([]);
    return d.toJS() as Doc;
  });
}

/** Flattens rules to `group/resource:verb` grants so overlaps and wildcards cannot hide. */
function grants(rules: readonly Rule[]): string[] {
  const out: string[] = [];
  for (const r of rules) {
    expect(r.resourceNames).toBeUndefined();
    expect(r.nonResourceURLs).toBeUndefined();
    for (const g of r.apiGroups)
      for (const res of r.resources) for (const v of r.verbs) out.push(`${g || 'core'}/${res}:${v}`);
  }
  return out.sort();
}

describe('deploy/rbac', () => {
  it('the namespaced Role grants exactly the workload actions’ needs', async () => {
    const [role, binding] = await load('role.yaml');
    expect(role!.kind).toBe('Role');
    expect(grants(role!.rules!)).toEqual(
      [
        'apps/deployments:get',
        'apps/deployments:patch',
        'apps/deployments/scale:get',
        'apps/deployments/scale:patch',
        'apps/replicasets:list',
        'core/configmaps:get',
        'core/configmaps:patch',
        'core/pods:get',
        'core/pods:list',
        'core/pods:delete',
      ].sort(),
    );
    expect(binding).toMatchObject({
      kind: 'RoleBinding',
      roleRef: { kind: 'Role', name: 'rebound-remediation' },
      subjects: [{ kind: 'ServiceAccount', name: 'rebound', namespace: 'rebound' }],
    });
  });

  it('node actions live in a separate, opt-in ClusterRole', async () => {
    const [clusterRole, binding] = await load('node-actions.yaml');
    expect(clusterRole!.kind).toBe('ClusterRole');
    expect(grants(clusterRole!.rules!)).toEqual(
      [
        'apps/daemonsets:get',
        'core/nodes:get',
        'core/nodes:patch',
        'core/pods:get',
        'core/pods:list',
        'core/pods/eviction:create',
      ].sort(),
    );
    expect(binding).toMatchObject({
      kind: 'ClusterRoleBinding',
      roleRef: { kind: 'ClusterRole', name: 'rebound-node-actions' },
    });
  });

  it('no wildcard, no escalation verbs, no secrets anywhere', async () => {
    const all = [
      ...(await load('role.yaml')),
      ...(await load('node-actions.yaml')),
      ...(await load('serviceaccount.yaml')),
    ];
    const flat = all.flatMap((d) => grants(d.rules ?? []));
    for (const g of flat) {
      expect(g).not.toMatch(/\*|secrets|:escalate|:bind|:impersonate/);
    }
    expect(all.find((d) => d.kind === 'ServiceAccount')).toMatchObject({
      metadata: { name: 'rebound', namespace: 'rebound' },
    });
  });
});

/** The RBAC verb and `group/resource[/sub]` a recorded request needs. */
function needed(r: RecordedRequest): string {
  const route = parseRoute(r.path);
  const resource = `${route.type.group || 'core'}/${route.type.resource}${route.subresource ? '/' + route.subresource : ''}`;
  const verb = {
    GET: route.name ? 'get' : 'list',
    PATCH: 'patch',
    DELETE: 'delete',
    POST: 'create',
    PUT: 'update',
  }[r.method]!;
  return `${resource}:${verb}`;
}

describe('deploy/rbac against what the actions really send', () => {
  it('the Role grants exactly what the workload actions send, the ClusterRole exactly what the node actions send', async () => {
    const h = await harness();
    try {
      const registry = new ActionRegistry(kubernetesActions(h.deps));
      seedNode(h.api, 'n1');
      seedDeployment(h.api, { namespace: 'shop', name: 'web', replicas: 2 });
      setImage(h.api, 'shop', 'web', 'web:2');
      seedConfigMap(h.api, 'shop', 'flags', { mode: 'normal' });
      h.api.clearRequests();
      const ctx = h.ctx();
      await registry.run('k8s.scale', { namespace: 'shop', name: 'web', replicas: 3 }, ctx);
      await registry.run('k8s.restart', { namespace: 'shop', name: 'web' }, ctx);
      await registry.run('k8s.rollback', { namespace: 'shop', name: 'web' }, ctx);
      await registry.run('k8s.waitRollout', { namespace: 'shop', name: 'web' }, ctx);
      await registry.run(
        'config.set',
        { namespace: 'shop', name: 'flags', key: 'mode', value: 'degraded' },
        ctx,
      );
      await registry.run(
        'k8s.deletePod',
        { namespace: 'shop', name: h.api.list('pods', 'shop')[0]!.metadata.name },
        ctx,
      );
      await registry.run('k8s.deletePod', { namespace: 'shop', selector: 'app=web', maxCount: 5 }, ctx);
      const workload = new Set(h.api.requests.map(needed));
      const [role] = await load('role.yaml');
      expect([...workload].sort()).toEqual(grants(role!.rules!)); // nothing missing, nothing unused

      // Every node runs DaemonSet pods (kube-proxy, a CNI agent): a drain reads their DaemonSets.
      seedDaemonSetPod(h.api, {
        namespace: 'kube-system',
        daemonSet: 'kube-proxy',
        name: 'kube-proxy-n1',
        node: 'n1',
      });
      h.api.clearRequests();
      await registry.run('k8s.cordon', { name: 'n1' }, ctx);
      await registry.run('k8s.uncordon', { name: 'n1' }, ctx);
      await registry.run('k8s.drain', { name: 'n1' }, ctx);
      const nodes = new Set(h.api.requests.map(needed));
      const [clusterRole] = await load('node-actions.yaml');
      expect([...nodes].sort()).toEqual(grants(clusterRole!.rules!));
      expect(nodes).toContain('core/pods/eviction:create');
    } finally {
      await h.close();
    }
  });
});
