import type { ProcessKubelet } from './kubelet.ts';
import type { Json } from './patch.ts';
import type { KubeApiDouble } from './server.ts';
import type { K8sObject } from './store.ts';

/**
 * The kube-state-metrics series the shipped rules and runbooks read, rendered from the stand-in's objects and
 * its kubelet (names and labels as kube-state-metrics 2.x writes them), in the Prometheus text format.
 */

type Obj = { [key: string]: Json };
const asObj = (v: Json | undefined): Obj =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {};

const WAITING_REASONS = ['ContainerCreating', 'CrashLoopBackOff', 'ErrImagePull', 'ImagePullBackOff'];

export function kubeStateMetrics(api: KubeApiDouble, kubelet: ProcessKubelet | undefined): string {
  const out: string[] = [];
  const family = (name: string, type: 'gauge' | 'counter', help: string, lines: string[]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
  };
  const labels = (l: Record<string, string>) =>
    '{' +
    Object.entries(l)
      .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
      .join(',') +
    '}';

  const pods = api.list('pods').filter((p) => p.metadata['deletionTimestamp'] === undefined);
  family(
    'kube_pod_status_ready',
    'gauge',
    'Describes whether the pod is ready to serve requests.',
    pods.flatMap((p) => {
      const conditions = asObj(p['status'])['conditions'];
      const ready = (Array.isArray(conditions) ? conditions : [])
        .map(asObj)
        .find((c) => c['type'] === 'Ready');
      if (!ready) return []; // kube-state-metrics writes nothing for a pod without the condition
      const base = { namespace: p.metadata.namespace ?? '', pod: p.metadata.name, uid: p.metadata.uid ?? '' };
      return ['true', 'false', 'unknown'].map(
        (condition) =>
          `kube_pod_status_ready${labels({ ...base, condition })} ${String(ready['status']).toLowerCase() === condition ? 1 : 0}`,
      );
    }),
  );
  const states = kubelet?.containerStates() ?? [];
  family(
    'kube_pod_container_status_restarts_total',
    'counter',
    'The number of container restarts per container.',
    states.map(
      (s) =>
        `kube_pod_container_status_restarts_total${labels({ namespace: s.namespace, pod: s.pod, container: s.container })} ${s.restarts}`,
    ),
  );
  family(
    'kube_pod_container_status_waiting_reason',
    'gauge',
    'Describes the reason the container is currently in waiting state.',
    states.flatMap((s) =>
      WAITING_REASONS.map(
        (reason) =>
          `kube_pod_container_status_waiting_reason${labels({ namespace: s.namespace, pod: s.pod, container: s.container, reason })} ${s.waiting === reason ? 1 : 0}`,
      ),
    ),
  );
  const deployments = api.list('deployments');
  const depGauge = (
    name: string,
    help: string,
    value: (status: Obj, spec: Obj, generation: number) => number,
  ) =>
    family(
      name,
      'gauge',
      help,
      deployments.map(
        (d) =>
          `${name}${labels({ namespace: d.metadata.namespace ?? '', deployment: d.metadata.name })} ${value(asObj(d['status']), asObj(d['spec']), d.metadata.generation ?? 1)}`,
      ),
    );
  const num = (v: Json | undefined) => (typeof v === 'number' ? v : 0);
  depGauge('kube_deployment_spec_replicas', 'Number of desired pods for a deployment.', (_s, spec) =>
    num(spec['replicas']),
  );
  depGauge(
    'kube_deployment_status_replicas_available',
    'The number of available replicas per deployment.',
    (s) => num(s['availableReplicas']),
  );
  depGauge('kube_deployment_status_replicas_updated', 'The number of updated replicas per deployment.', (s) =>
    num(s['updatedReplicas']),
  );
  // The bad-deploy runbook dates a Deployment's pod template by its newest ReplicaSet (a scale makes none).
  const replicaSets = api.list('replicasets');
  const rsLabels = (rs: K8sObject) => ({
    namespace: rs.metadata.namespace ?? '',
    replicaset: rs.metadata.name,
  });
  family(
    'kube_replicaset_created',
    'gauge',
    'Unix creation timestamp',
    replicaSets.flatMap((rs) => {
      const created = Date.parse(String(rs.metadata['creationTimestamp'] ?? ''));
      // kube-state-metrics writes nothing for a zero creationTimestamp.
      return Number.isNaN(created)
        ? []
        : [`kube_replicaset_created${labels(rsLabels(rs))} ${created / 1000}`];
    }),
  );
  family(
    'kube_replicaset_owner',
    'gauge',
    "Information about the ReplicaSet's owner.",
    replicaSets.flatMap((rs) => {
      const refs = rs.metadata['ownerReferences'];
      const owners = (Array.isArray(refs) ? refs : []).map(asObj);
      // One series per owner reference; a ReplicaSet without any gets a single `<none>` series.
      if (owners.length === 0) {
        const none = { owner_kind: '<none>', owner_name: '<none>', owner_is_controller: '<none>' };
        return [`kube_replicaset_owner${labels({ ...rsLabels(rs), ...none })} 1`];
      }
      return owners.map(
        (o) =>
          `kube_replicaset_owner${labels({ ...rsLabels(rs), owner_kind: String(o['kind'] ?? ''), owner_name: String(o['name'] ?? ''), owner_is_controller: o['controller'] === true ? 'true' : 'false' })} 1`,
      );
    }),
  );
  const nodes = api.list('nodes');
  family(
    'kube_node_status_condition',
    'gauge',
    'The condition of a cluster node.',
    nodes.flatMap((n) => {
      const conditions = asObj(n['status'])['conditions'];
      return (Array.isArray(conditions) ? conditions : [])
        .map(asObj)
        .flatMap((c) =>
          ['true', 'false', 'unknown'].map(
            (status) =>
              `kube_node_status_condition${labels({ node: n.metadata.name, condition: String(c['type']), status })} ${String(c['status']).toLowerCase() === status ? 1 : 0}`,
          ),
        );
    }),
  );
  family(
    'kube_node_spec_unschedulable',
    'gauge',
    'Whether a node can schedule new pods.',
    nodes.map(
      (n) =>
        `kube_node_spec_unschedulable${labels({ node: n.metadata.name })} ${asObj(n['spec'])['unschedulable'] === true ? 1 : 0}`,
    ),
  );
  family(
    'kube_pod_info',
    'gauge',
    'Information about pod.',
    pods.map(
      (p) =>
        `kube_pod_info${labels({ namespace: p.metadata.namespace ?? '', pod: p.metadata.name, uid: p.metadata.uid ?? '', node: String(asObj(p['spec'])['nodeName'] ?? ''), pod_ip: '127.0.0.1', created_by_kind: 'ReplicaSet' })} 1`,
    ),
  );
  return out.join('\n') + '\n';
}
