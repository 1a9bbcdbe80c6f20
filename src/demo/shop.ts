import type { K8sObject, KubeApiDouble } from '../kube-sim/index.ts';
import { CHECKOUT_IMAGE } from './checkout-runtime.ts';

/**
 * The demo's cluster contents: three nodes, the `shop` namespace's checkout Deployment (two replicas that
 * read degraded mode from the `checkout-flags` ConfigMap through the API, as in deploy/), and a
 * PodDisruptionBudget so a drain evicts one pod at a time.
 */

export const SHOP = {
  namespace: 'shop',
  deployment: 'checkout',
  configMap: 'checkout-flags',
  key: 'degraded_mode',
};
export const NODES = ['node-a', 'node-b', 'node-c'] as const;
export const CHECKOUT_VERSION = '1.4.2';

/** The checkout pod template's container env (a bad deploy changes it). */
export function checkoutEnv(overrides: Record<string, string> = {}): { name: string; value: string }[] {
  const env: Record<string, string> = {
    SERVICE_VERSION: CHECKOUT_VERSION,
    CONFIGMAP_NAME: SHOP.configMap,
    CONFIGMAP_KEY: SHOP.key,
    CONFIG_POLL_INTERVAL_MS: '250',
    // The pricing dependency answers in 80 ms and takes one call at a time per replica (12 calls/s):
    // plenty for the usual shoppers, not for a flash sale (the latency scenario).
    LATENCY_MS: '80',
    LATENCY_JITTER_MS: '10',
    MAX_CONCURRENCY: '1',
    ...overrides,
  };
  return Object.entries(env).map(([name, value]) => ({ name, value }));
}

export function seedShop(api: KubeApiDouble, replicas = 2): void {
  for (const name of NODES) {
    api.put('nodes', { metadata: { name, labels: { 'kubernetes.io/hostname': name } }, spec: {} });
  }
  api.put('configmaps', {
    metadata: { name: SHOP.configMap, namespace: SHOP.namespace },
    data: { [SHOP.key]: 'false' },
  });
  api.put('poddisruptionbudgets', {
    metadata: { name: SHOP.deployment, namespace: SHOP.namespace },
    spec: { minAvailable: 1, selector: { matchLabels: { app: SHOP.deployment } } },
  });
  api.put('deployments', checkoutDeployment(replicas));
}

function checkoutDeployment(replicas: number): K8sObject {
  return {
    metadata: { name: SHOP.deployment, namespace: SHOP.namespace, labels: { app: SHOP.deployment } },
    spec: {
      replicas,
      selector: { matchLabels: { app: SHOP.deployment } },
      template: {
        metadata: { labels: { app: SHOP.deployment } },
        spec: {
          containers: [
            {
              name: SHOP.deployment,
              image: `${CHECKOUT_IMAGE}:${CHECKOUT_VERSION}`,
              env: checkoutEnv(),
            },
          ],
        },
      },
    },
  };
}

/**
 * A bad deploy, as `kubectl set image` + `kubectl set env` would make it: version 1.5.0 ships with a
 * malformed setting, so every new pod exits on start (CrashLoopBackOff) while the old pods keep serving.
 * Stamped with its time, as a pipeline stamps each deploy: run again (the mttr bench), it is a new release
 * with a new ReplicaSet, not the one already rolled back coming back (which k8s.rollback leaves to a person).
 */
export function deployBrokenVersion(api: KubeApiDouble, at = new Date()): void {
  const dep = api.get('deployments', SHOP.namespace, SHOP.deployment)!;
  const spec = structuredClone(dep['spec']) as {
    template: {
      metadata?: { annotations?: Record<string, string> };
      spec: { containers: { image: string; env: { name: string; value: string }[] }[] };
    };
  };
  spec.template.metadata = {
    ...spec.template.metadata,
    annotations: { ...spec.template.metadata?.annotations, 'demo.rebound.dev/deployed-at': at.toISOString() },
  };
  const container = spec.template.spec.containers[0]!;
  container.image = `${CHECKOUT_IMAGE}:1.5.0`;
  container.env = checkoutEnv({ SERVICE_VERSION: '1.5.0', LATENCY_MS: '250ms' });
  api.put('deployments', { ...dep, spec });
}
