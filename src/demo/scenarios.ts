import type { PodEndpoint, RecordedRequest } from '../kube-sim/index.ts';
import type { DemoStack } from './stack.ts';
import { deployBrokenVersion, SHOP } from './shop.ts';
import { BASELINE_USERS, SURGE_USERS } from './traffic.ts';

/**
 * The faults the demo injects, each with the alert it should raise, the runbook the shipped routing picks,
 * and the Kubernetes writes a successful remediation makes (what the end-to-end test asserts exactly).
 */

export const SCENARIOS = ['error-rate', 'latency', 'bad-deploy', 'node'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** One write the stand-in should see, matched by method and path (and a predicate on the body). */
export interface ExpectedWrite {
  readonly what: string;
  readonly method: string;
  readonly path: RegExp;
  readonly body?: (body: unknown) => boolean;
  /** May be missing when it is last (a step that comes after a wait the loop may not see). */
  readonly optional?: boolean;
}

export interface Scenario {
  readonly name: ScenarioName;
  readonly title: string;
  readonly alertname: string;
  readonly runbook: string;
  /** Injects the fault; returns a one-line description for the narration. */
  inject(stack: DemoStack): Promise<string>;
  /** The writes a remediation makes, in order (given the pods and nodes at injection time). */
  expectedWrites(context: FaultContext): ExpectedWrite[];
}

/** What the scenario touched, for its expected writes. */
export interface FaultContext {
  /** The node taken down (node scenario). */
  readonly node?: string;
  /** Pods running on that node when it went down. */
  readonly podsOnNode?: readonly string[];
}

const deploymentPath = new RegExp(
  `^/apis/apps/v1/namespaces/${SHOP.namespace}/deployments/${SHOP.deployment}$`,
);
const configMapPath = new RegExp(`^/api/v1/namespaces/${SHOP.namespace}/configmaps/${SHOP.configMap}$`);
const text = (body: unknown) => JSON.stringify(body ?? null);

async function chaos(pods: readonly PodEndpoint[], knobs: Record<string, unknown>): Promise<void> {
  await Promise.all(
    pods.map(async (pod) => {
      const res = await fetch(`${pod.url}/admin/chaos`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(knobs),
      });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`PUT ${pod.url}/admin/chaos answered ${res.status}`);
    }),
  );
}

/**
 * Undoes every scenario's fault and what remediation left behind (degraded mode on, extra replicas, a
 * cordoned or failed node), as the team would after the incident, so the next loop starts healthy.
 */
export async function restoreShop(stack: DemoStack): Promise<void> {
  const api = stack.sim.api;
  await stack.traffic.setUsers(BASELINE_USERS);
  const cm = api.get('configmaps', SHOP.namespace, SHOP.configMap);
  const data = (cm?.['data'] ?? {}) as Record<string, string>;
  if (cm && data[SHOP.key] !== 'false')
    api.put('configmaps', { ...cm, data: { ...data, [SHOP.key]: 'false' } });
  const dep = api.get('deployments', SHOP.namespace, SHOP.deployment)!;
  if ((dep['spec'] as { replicas?: number }).replicas !== 2)
    api.put('deployments', { ...dep, spec: { ...(dep['spec'] as object), replicas: 2 } });
  for (const node of api.list('nodes')) {
    stack.sim.kubelet.setNodeReady(node.metadata.name, true);
    if ((node['spec'] as { unschedulable?: boolean }).unschedulable)
      api.put('nodes', { ...api.get('nodes', undefined, node.metadata.name)!, spec: {} });
  }
}

export const SCENARIO_DEFINITIONS: Readonly<Record<ScenarioName, Scenario>> = {
  'error-rate': {
    name: 'error-rate',
    title: 'the pricing dependency fails 30% of calls',
    alertname: 'CheckoutHighErrorRatio',
    runbook: 'high-error-rate',
    async inject(stack) {
      const pods = stack.checkoutPods();
      await chaos(pods, { errorRate: 0.3 });
      return `ERROR_RATE=0.3 on ${pods.map((p) => p.pod).join(', ')} (PUT /admin/chaos)`;
    },
    expectedWrites: () => [
      {
        what: 'degraded mode on (ConfigMap patch)',
        method: 'PATCH',
        path: configMapPath,
        body: (b) => text(b).includes(`"${SHOP.key}":"true"`),
      },
      {
        what: 'rollout restart (Deployment patch)',
        method: 'PATCH',
        path: deploymentPath,
        body: (b) => text(b).includes('kubectl.kubernetes.io/restartedAt'),
      },
    ],
  },
  latency: {
    name: 'latency',
    title: 'a flash sale: 20 shoppers at once saturate the two replicas (latency climbs)',
    alertname: 'CheckoutHighLatencyP95',
    runbook: 'high-latency',
    async inject(stack) {
      void stack.traffic.setUsers(SURGE_USERS);
      return `flash sale: ${BASELINE_USERS} → ${SURGE_USERS} concurrent shoppers; each replica prices one cart at a time (MAX_CONCURRENCY=1, 80 ms)`;
    },
    expectedWrites: () => [
      {
        what: 'scale out (scale subresource patch)',
        method: 'PATCH',
        path: new RegExp(`${deploymentPath.source.slice(0, -1)}/scale$`),
        body: (b) => text(b).includes('"replicas":4'),
      },
      {
        what: 'scale back in after the quiet period (if the loop lasts that long)',
        method: 'PATCH',
        path: new RegExp(`${deploymentPath.source.slice(0, -1)}/scale$`),
        body: (b) => text(b).includes('"replicas":2'),
        optional: true,
      },
    ],
  },
  'bad-deploy': {
    name: 'bad-deploy',
    title: 'version 1.5.0 ships with a malformed setting and crash-loops',
    alertname: 'CheckoutCrashLooping',
    runbook: 'bad-deploy',
    async inject(stack) {
      deployBrokenVersion(stack.sim.api);
      return 'kubectl set image/env: checkout 1.5.0 with LATENCY_MS=250ms (new pods exit on start)';
    },
    expectedWrites: () => [
      {
        what: 'rollback to the previous revision (Deployment JSON patch)',
        method: 'PATCH',
        path: deploymentPath,
        body: (b) => text(b).includes('/spec/template'),
      },
    ],
  },
  node: {
    name: 'node',
    title: "a node's kubelet stops (node NotReady, its pods frozen)",
    alertname: 'KubeNodeNotReady',
    runbook: 'node-not-ready',
    async inject(stack) {
      const node = stack.nodeWithCheckoutPod();
      const pods = stack.checkoutPods().filter((p) => p.node === node);
      stack.fault = { node, podsOnNode: pods.map((p) => p.pod) };
      stack.sim.kubelet.setNodeReady(node, false);
      return `node ${node} NotReady; frozen pods: ${pods.map((p) => p.pod).join(', ')}`;
    },
    expectedWrites: (context) => [
      {
        what: `cordon ${context.node}`,
        method: 'PATCH',
        path: new RegExp(`^/api/v1/nodes/${context.node}$`),
        body: (b) => text(b).includes('"unschedulable":true'),
      },
      ...(context.podsOnNode ?? []).map((pod) => ({
        what: `evict ${pod}`,
        method: 'POST',
        path: new RegExp(`^/api/v1/namespaces/${SHOP.namespace}/pods/${pod}/eviction$`),
      })),
    ],
  },
};

/**
 * Compares the writes the stand-in received (dry runs excluded) with the expected ones: returns what is
 * missing or unexpected, one line each, or an empty list when they match exactly and in order.
 */
export function compareWrites(
  actual: readonly RecordedRequest[],
  expected: readonly ExpectedWrite[],
): string[] {
  const real = actual.filter((r) => r.query['dryRun'] === undefined);
  const problems: string[] = [];
  real.forEach((r, i) => {
    const want = expected[i];
    const ok =
      want && want.method === r.method && want.path.test(r.path) && (!want.body || want.body(r.body));
    if (!ok)
      problems.push(
        `write ${i + 1}: got ${r.method} ${r.path} ${text(r.body).slice(0, 300)}${want ? `, expected ${want.what}` : ' (unexpected)'}`,
      );
  });
  for (const missing of expected.slice(real.length))
    if (!missing.optional) problems.push(`missing: ${missing.what}`);
  return problems;
}
