import type { Json } from './patch.ts';
import { matchesLabelSelector } from './selectors.ts';
import type { K8sObject, ObjectStore } from './store.ts';

/**
 * A small Deployment + ReplicaSet controller, enough for rollouts, rollbacks and drains to be real:
 * - a Deployment whose pod template matches no ReplicaSet gets a new one named `<deploy>-<pod-template-hash>`
 *   with revision = max + 1; going back to an old template re-uses that ReplicaSet and bumps its revision
 *   (https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#rolling-back-a-deployment);
 * - the newest ReplicaSet takes all replicas at once (rollouts complete on the next sync unless held);
 * - ReplicaSets keep their pod count, placing pods on schedulable nodes (cordoned nodes get none).
 * With an external pod lifecycle (a kubelet that runs real processes, see kubelet.ts) pods stay Pending until
 * the kubelet reports them, and old ReplicaSets give up a pod only for each ready pod of the new one
 * (maxUnavailable 0, surge of the whole count): a new template that never becomes ready stalls the rollout
 * and the old pods keep serving, as on a real cluster.
 */

export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
export const POD_TEMPLATE_HASH = 'pod-template-hash';

export interface RolloutHooks {
  /** Remaining reads of a Deployment before its rollout reports complete, by `ns/name`. */
  readonly heldRollouts: Map<string, number>;
  /** Deployments whose rollout reports ProgressDeadlineExceeded, by `ns/name`. */
  readonly failedRollouts: Set<string>;
}

type Obj = { [key: string]: Json };
const asObj = (v: Json | undefined): Obj =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {};
const revisionOf = (o: K8sObject) => Number(o.metadata.annotations?.[REVISION] ?? '0') || 0;

/** The template without the `pod-template-hash` label: what "same template" means for the controller. */
export function templateIgnoringHash(template: Json | undefined): Json {
  const t = structuredClone(asObj(template));
  const meta = asObj(t['metadata']);
  const labels = { ...asObj(meta['labels']) };
  delete labels[POD_TEMPLATE_HASH];
  if (Object.keys(labels).length > 0) meta['labels'] = labels;
  else delete meta['labels'];
  if (Object.keys(meta).length > 0) t['metadata'] = meta;
  else delete t['metadata'];
  return canonical(t);
}

function canonical(v: Json): Json {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical(v[k]!)]),
    );
  }
  return v;
}

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Five characters of the apiserver's generateName alphabet, unique per (ReplicaSet, counter). */
function podSuffix(rsName: string, counter: number): string {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(`${rsName}/${counter}`)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  let out = '';
  for (let i = 0; i < 5; i++) {
    out += SAFE_ALPHABET[hash % SAFE_ALPHABET.length];
    hash = Math.floor(hash / SAFE_ALPHABET.length) + counter * 7919 + i;
  }
  return out;
}

/** FNV-1a 32 of the canonical template, encoded with the apiserver's consonant alphabet (SafeEncodeString). */
export function podTemplateHash(template: Json | undefined): string {
  const text = JSON.stringify(templateIgnoringHash(template));
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...String(hash)].map((c) => alphabet[c.charCodeAt(0) % alphabet.length]).join('');
}

/** `instant`: pods are Running and Ready once bound (tests). `external`: a kubelet reports their status. */
export type PodLifecycle = 'instant' | 'external';

export class Controller {
  private podCounter = 0;
  private readonly listeners: (() => void)[] = [];

  constructor(
    private readonly store: ObjectStore,
    private readonly hooks: RolloutHooks,
    private readonly lifecycle: PodLifecycle = 'instant',
  ) {}

  /** Brings every Deployment, ReplicaSet and pod placement in line with the stored specs. */
  reconcile(): void {
    // Two passes: a rollout gated on readiness moves on once the first pass made new pods ready.
    for (let pass = 0; pass < 2; pass++) {
      for (const dep of this.store.list('deployments')) this.syncDeployment(dep);
      for (const rs of this.store.list('replicasets')) this.syncReplicaSet(rs);
      this.schedulePending();
    }
    for (const dep of this.store.list('deployments')) this.updateDeploymentStatus(dep);
    for (const listener of this.listeners) listener();
  }

  /** Called after every reconcile, e.g. by a kubelet that starts and stops processes for pods. */
  onReconcile(listener: () => void): void {
    this.listeners.push(listener);
  }

  private ownedReplicaSets(dep: K8sObject): K8sObject[] {
    return this.store
      .list('replicasets', dep.metadata.namespace)
      .filter((rs) => ownerUid(rs) === dep.metadata.uid);
  }

  private syncDeployment(dep: K8sObject): void {
    const spec = asObj(dep['spec']);
    const replicas = typeof spec['replicas'] === 'number' ? spec['replicas'] : 1;
    const owned = this.ownedReplicaSets(dep);
    const wanted = JSON.stringify(templateIgnoringHash(spec['template']));
    const matching = owned.find(
      (rs) => JSON.stringify(templateIgnoringHash(asObj(rs['spec'])['template'])) === wanted,
    );
    let current = matching;
    const maxRevision = Math.max(0, ...owned.map(revisionOf));
    if (spec['paused'] === true) {
      // A paused Deployment only scales; template changes wait for resume.
      current ??= owned.sort((a, b) => revisionOf(b) - revisionOf(a))[0];
    } else if (!current) {
      current = this.createReplicaSet(dep, maxRevision + 1, replicas);
    } else if (revisionOf(current) < maxRevision) {
      const history = current.metadata.annotations?.[REVISION_HISTORY];
      const old = String(revisionOf(current));
      current.metadata.annotations = {
        ...current.metadata.annotations,
        [REVISION]: String(maxRevision + 1),
        [REVISION_HISTORY]: history ? `${history},${old}` : old,
      };
      current = this.store.update('replicasets', current);
    }
    // As the controller's SetNewReplicaSetAnnotations, on every sync: the Deployment's annotations (but its
    // bookkeeping) are copied onto the current ReplicaSet, so one annotated after its ReplicaSet was made
    // (a change-cause, say) reaches it too. Annotations the Deployment no longer has stay. Only a ReplicaSet of
    // the Deployment's template gets them: not the one a paused Deployment keeps running after a change.
    const ofTemplate = matching !== undefined || spec['paused'] !== true; // else the paused fallback
    if (current && ofTemplate) {
      const copied = copiedAnnotations(dep);
      const has = current.metadata.annotations ?? {};
      if (Object.entries(copied).some(([k, v]) => has[k] !== v)) {
        current.metadata.annotations = { ...has, ...copied };
        current = this.store.update('replicasets', current);
      }
    }
    // Old ReplicaSets keep what the new one cannot yet serve (always 0 with the instant lifecycle).
    let leftover =
      this.lifecycle === 'external' && current ? Math.max(0, replicas - this.readyPods(current)) : 0;
    const newestFirst = [...owned].sort((a, b) => revisionOf(b) - revisionOf(a));
    for (const rs of newestFirst) {
      if (current && rs.metadata.uid === current.metadata.uid) {
        this.setReplicaSetReplicas(rs, replicas, replicas);
        continue;
      }
      const has = this.livePods(rs).length;
      const keep = Math.min(has, leftover);
      leftover -= keep;
      this.setReplicaSetReplicas(rs, keep, replicas);
    }
    if (current) {
      const revision = current.metadata.annotations?.[REVISION] ?? '1';
      if (dep.metadata.annotations?.[REVISION] !== revision) {
        const fresh = this.store.get('deployments', dep.metadata.namespace, dep.metadata.name)!;
        fresh.metadata.annotations = { ...fresh.metadata.annotations, [REVISION]: revision };
        this.store.update('deployments', fresh);
      }
    }
  }

  private createReplicaSet(dep: K8sObject, revision: number, replicas: number): K8sObject {
    const spec = asObj(dep['spec']);
    const hash = podTemplateHash(spec['template']);
    const template = structuredClone(asObj(spec['template']));
    const tmeta = asObj(template['metadata']);
    tmeta['labels'] = { ...asObj(tmeta['labels']), [POD_TEMPLATE_HASH]: hash };
    template['metadata'] = tmeta;
    const selector = structuredClone(asObj(spec['selector']));
    selector['matchLabels'] = { ...asObj(selector['matchLabels']), [POD_TEMPLATE_HASH]: hash };
    return this.store.create('replicasets', {
      metadata: {
        name: `${dep.metadata.name}-${hash}`,
        namespace: dep.metadata.namespace!,
        labels: asObj(tmeta['labels']) as Record<string, string>,
        annotations: {
          // The controller copies the Deployment's annotations to a new ReplicaSet, except its own bookkeeping.
          ...copiedAnnotations(dep),
          [REVISION]: String(revision),
          [DESIRED_REPLICAS]: String(replicas),
          [MAX_REPLICAS]: String(replicas + 1),
        },
        ownerReferences: [ownerRef(dep)],
      },
      spec: { replicas, selector, template },
      status: { replicas: 0 },
    });
  }

  private setReplicaSetReplicas(stale: K8sObject, replicas: number, desired: number): void {
    const rs = this.store.get('replicasets', stale.metadata.namespace, stale.metadata.name)!;
    const spec = asObj(rs['spec']);
    const annotations = rs.metadata.annotations ?? {};
    if (
      spec['replicas'] === replicas &&
      (replicas === 0 || annotations[DESIRED_REPLICAS] === String(desired))
    )
      return;
    rs['spec'] = { ...spec, replicas };
    if (replicas > 0) rs.metadata.annotations = { ...annotations, [DESIRED_REPLICAS]: String(desired) };
    this.store.update('replicasets', rs);
  }

  private livePods(rs: K8sObject): K8sObject[] {
    return this.store
      .list('pods', rs.metadata.namespace)
      .filter((p) => ownerUid(p) === rs.metadata.uid && p.metadata['deletionTimestamp'] === undefined);
  }

  private readyPods(rs: K8sObject): number {
    return this.livePods(rs).filter(isReady).length;
  }

  private syncReplicaSet(rs: K8sObject): void {
    const spec = asObj(rs['spec']);
    const wanted = typeof spec['replicas'] === 'number' ? spec['replicas'] : 1;
    const live = this.livePods(rs);
    for (let i = live.length; i < wanted; i++) this.createPod(rs);
    for (const extra of live.slice(wanted).reverse())
      this.store.delete('pods', extra.metadata.namespace, extra.metadata.name);
    const count = Math.min(live.length, wanted) + Math.max(0, wanted - live.length);
    const status = asObj(rs['status']);
    const ready = this.lifecycle === 'external' ? this.readyPods(rs) : count;
    if (
      status['replicas'] !== count ||
      status['readyReplicas'] !== ready ||
      status['observedGeneration'] !== rs.metadata.generation
    ) {
      const fresh = this.store.get('replicasets', rs.metadata.namespace, rs.metadata.name)!;
      fresh['status'] = {
        replicas: count,
        readyReplicas: ready,
        availableReplicas: ready,
        observedGeneration: rs.metadata.generation ?? 1,
      };
      this.store.update('replicasets', fresh);
    }
  }

  private createPod(rs: K8sObject): void {
    const template = asObj(asObj(rs['spec'])['template']);
    const tmeta = asObj(template['metadata']);
    let suffix = podSuffix(rs.metadata.name, ++this.podCounter);
    while (this.store.get('pods', rs.metadata.namespace, `${rs.metadata.name}-${suffix}`))
      suffix = podSuffix(rs.metadata.name, ++this.podCounter);
    this.store.create('pods', {
      metadata: {
        name: `${rs.metadata.name}-${suffix}`,
        namespace: rs.metadata.namespace!,
        labels: asObj(tmeta['labels']) as Record<string, string>,
        ...(tmeta['annotations']
          ? { annotations: asObj(tmeta['annotations']) as Record<string, string> }
          : {}),
        ownerReferences: [ownerRef(rs)],
      },
      spec: structuredClone(asObj(template['spec'])),
      status: { phase: 'Pending' },
    });
  }

  /** Binds pending pods to the schedulable node with the fewest pods, then marks them Running and Ready. */
  private schedulePending(): void {
    const nodes = this.store.list('nodes');
    const schedulable = nodes.filter((n) => asObj(n['spec'])['unschedulable'] !== true);
    for (const pod of this.store.list('pods')) {
      const spec = asObj(pod['spec']);
      if (asObj(pod['status'])['phase'] !== 'Pending' || pod.metadata['deletionTimestamp'] !== undefined)
        continue;
      if (nodes.length > 0 && spec['nodeName'] === undefined) {
        if (schedulable.length === 0) continue;
        const load = (n: K8sObject) =>
          this.store.list('pods').filter((p) => asObj(p['spec'])['nodeName'] === n.metadata.name).length;
        const node = [...schedulable].sort((a, b) => load(a) - load(b))[0]!;
        pod['spec'] = { ...spec, nodeName: node.metadata.name };
      }
      if (this.lifecycle === 'external') {
        if (pod['spec'] !== spec) this.store.update('pods', pod);
        continue;
      }
      pod['status'] = {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True' }],
        startTime: this.store.timestamp(),
      };
      this.store.update('pods', pod);
    }
  }

  private updateDeploymentStatus(dep: K8sObject): void {
    const id = `${dep.metadata.namespace}/${dep.metadata.name}`;
    const spec = asObj(dep['spec']);
    const replicas = typeof spec['replicas'] === 'number' ? spec['replicas'] : 1;
    const owned = this.ownedReplicaSets(dep);
    const newest = owned.sort((a, b) => revisionOf(b) - revisionOf(a))[0];
    const pods = this.store
      .list('pods', dep.metadata.namespace)
      .filter((p) => owned.some((rs) => ownerUid(p) === rs.metadata.uid));
    const ready = pods.filter(isReady).length;
    const updated = newest ? pods.filter((p) => ownerUid(p) === newest.metadata.uid).length : 0;
    const held = this.hooks.heldRollouts.has(id);
    const failed = this.hooks.failedRollouts.has(id);
    const status: Obj = {
      observedGeneration: dep.metadata.generation ?? 1,
      replicas: held ? Math.max(pods.length, replicas + 1) : pods.length,
      updatedReplicas: held ? Math.max(0, updated - 1) : updated,
      readyReplicas: ready,
      availableReplicas: held ? Math.max(0, ready - 1) : ready,
      unavailableReplicas: Math.max(0, replicas - ready),
      conditions: [
        {
          type: 'Available',
          status: ready >= replicas ? 'True' : 'False',
          reason: ready >= replicas ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
        },
        failed
          ? {
              type: 'Progressing',
              status: 'False',
              reason: 'ProgressDeadlineExceeded',
              message: `ReplicaSet "${newest?.metadata.name ?? ''}" has timed out progressing.`,
            }
          : {
              type: 'Progressing',
              status: 'True',
              reason: held ? 'ReplicaSetUpdated' : 'NewReplicaSetAvailable',
              message: `ReplicaSet "${newest?.metadata.name ?? ''}" ${held ? 'is progressing' : 'has successfully progressed'}.`,
            },
      ],
    };
    if (JSON.stringify(status) === JSON.stringify(dep['status'])) return;
    const fresh = this.store.get('deployments', dep.metadata.namespace, dep.metadata.name)!;
    fresh['status'] = status;
    this.store.update('deployments', fresh);
  }
}

export function ownerUid(obj: K8sObject): string | undefined {
  const refs = obj.metadata['ownerReferences'];
  if (!Array.isArray(refs)) return undefined;
  const controller = refs.map(asObj).find((r) => r['controller'] === true);
  return typeof controller?.['uid'] === 'string' ? controller['uid'] : undefined;
}

function ownerRef(owner: K8sObject): Json {
  return {
    apiVersion: owner['apiVersion'] ?? 'apps/v1',
    kind: owner['kind'] ?? 'Deployment',
    name: owner.metadata.name,
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function isReady(pod: K8sObject): boolean {
  if (pod.metadata['deletionTimestamp'] !== undefined) return false;
  const conditions = asObj(pod['status'])['conditions'];
  return (
    Array.isArray(conditions) &&
    conditions.some((c) => asObj(c)['type'] === 'Ready' && asObj(c)['status'] === 'True')
  );
}

export { matchesLabelSelector };

const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  'deprecated.deployment.rollback.to',
  REVISION,
  REVISION_HISTORY,
  DESIRED_REPLICAS,
  MAX_REPLICAS,
]);

function copiedAnnotations(dep: K8sObject): Record<string, string> {
  return Object.fromEntries(
    Object.entries(dep.metadata.annotations ?? {}).filter(([k]) => !NOT_COPIED.has(k)),
  );
}
