import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createMetrics } from '../../services/checkout/src/metrics.ts';

/** Every metric name the shipped rules and dashboards may read, gathered from the code that exports them. */

export const ROOT = new URL('../../', import.meta.url).pathname;
export const DEPLOY = join(ROOT, 'deploy');

/** Series from kube-state-metrics (or the Kubernetes stand-in that imitates it) and Prometheus itself. */
export const EXTERNAL_METRICS = [
  'kube_pod_container_status_restarts_total',
  'kube_pod_container_status_waiting_reason',
  'kube_pod_status_ready',
  'kube_node_status_condition',
  'kube_node_spec_unschedulable',
  'kube_pod_info',
  'up',
  'ALERTS',
];

/** `rebound_*` names registered anywhere under src/ (e.g. src/telemetry/metrics.ts). */
async function reboundMetricsInSource(): Promise<string[]> {
  const files = (await readdir(join(ROOT, 'src'), { recursive: true })).filter((f) => f.endsWith('.ts'));
  const names: string[] = [];
  for (const file of files) {
    const text = await readFile(join(ROOT, 'src', file), 'utf8');
    for (const match of text.matchAll(/name:\s*'(rebound_[a-z0-9_]+)'/g)) names.push(match[1]!);
  }
  return names;
}

export async function checkoutMetrics(): Promise<string[]> {
  const metrics = createMetrics({ version: 'test', pod: undefined });
  return (await metrics.registry.getMetricsAsJSON()).map((m) => m.name);
}

/** Names recorded by the shipped rule files (`record:`), which dashboards may read too. */
export async function recordedMetrics(): Promise<string[]> {
  const dir = join(DEPLOY, 'prometheus', 'rules');
  const out: string[] = [];
  for (const file of await readdir(dir)) {
    const doc = parse(await readFile(join(dir, file), 'utf8')) as RuleFileShape;
    for (const group of doc.groups) for (const rule of group.rules) if (rule.record) out.push(rule.record);
  }
  return out;
}

export async function knownMetrics(): Promise<Set<string>> {
  return new Set([
    ...EXTERNAL_METRICS,
    ...(await reboundMetricsInSource()),
    ...(await checkoutMetrics()),
    ...(await recordedMetrics()),
  ]);
}

export interface RuleShape {
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

export interface RuleFileShape {
  readonly groups: readonly {
    readonly name: string;
    readonly interval?: string;
    readonly rules: readonly RuleShape[];
  }[];
}

export async function readRuleFile(path: string): Promise<RuleFileShape> {
  return parse(await readFile(path, 'utf8')) as RuleFileShape;
}
