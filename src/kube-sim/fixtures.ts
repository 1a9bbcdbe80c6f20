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
