import type { KubeApiDouble } from './server.ts';
import type { K8sObject } from './store.ts';

/** Seeds a Deployment the way `kubectl create deployment` shapes it; the controller then creates RS + pods. */
export function seedDeployment(
  api: KubeApiDouble,
  options: { namespace?: string; name: string; replicas?: number; image?: string; paused?: boolean },
): K8sObject {
  const namespace = options.namespace ?? 'default';
  return api.put('deployments', {
    metadata: { name: options.name, namespace, labels: { app: options.name } },
    spec: {
      replicas: options.replicas ?? 2,
      ...(options.paused ? { paused: true } : {}),
      selector: { matchLabels: { app: options.name } },
      template: {
        metadata: { labels: { app: options.name } },
        spec: { containers: [{ name: options.name, image: options.image ?? `${options.name}:1` }] },
      },
    },
  });
}

/**
 * Seeds a pod of a DaemonSet on `node` (the double runs no DaemonSet controller); the DaemonSet itself only
 * with `withDaemonSet` (a pod whose DaemonSet is gone is an orphan to kubectl drain).
 */
export function seedDaemonSetPod(
  api: KubeApiDouble,
  options: { namespace: string; daemonSet: string; name: string; node: string; phase?: string },
  withDaemonSet = true,
): K8sObject {
  const { namespace, daemonSet } = options;
  const uid = `ds-${namespace}-${daemonSet}`;
  if (withDaemonSet) api.put('daemonsets', { metadata: { name: daemonSet, namespace, uid } });
  return api.put('pods', {
    metadata: {
      name: options.name,
      namespace,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: daemonSet, uid, controller: true }],
    },
    spec: { nodeName: options.node, containers: [{ name: daemonSet, image: daemonSet }] },
    status: { phase: options.phase ?? 'Running' },
  });
}

/** Changes the Deployment's image (a new revision), as `kubectl set image` would. */
export function setImage(api: KubeApiDouble, namespace: string, name: string, image: string): K8sObject {
  const dep = api.get('deployments', namespace, name)!;
  const spec = structuredClone(dep['spec']) as { template: { spec: { containers: { image: string }[] } } };
  spec.template.spec.containers[0]!.image = image;
  return api.put('deployments', { ...dep, spec });
}

export function seedNode(api: KubeApiDouble, name: string, unschedulable = false): K8sObject {
  return api.put('nodes', {
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    spec: unschedulable ? { unschedulable: true } : {},
  });
}

export function seedConfigMap(
  api: KubeApiDouble,
  namespace: string,
  name: string,
  data: Record<string, string>,
): K8sObject {
  return api.put('configmaps', { metadata: { name, namespace }, data });
}
