import type { V1Deployment, V1PodTemplateSpec, V1ReplicaSet } from '@kubernetes/client-node';

/**
 * kubectl's `rollout undo` arithmetic (kubectl pkg/polymorphichelpers/rollback.go, DeploymentRollbacker),
 * kept pure so it can be tested without a cluster.
 */

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
/** Set by the controller on a ReplicaSet it brings back (undo, or the same template applied again). */
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const POD_TEMPLATE_HASH = 'pod-template-hash';

/** Annotations that belong to the Deployment itself and survive a rollback; the rest come from the ReplicaSet. */
export const ANNOTATIONS_TO_SKIP: readonly string[] = [
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  REVISION_HISTORY,
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
];

/** The ReplicaSet of the Deployment's current pod template: the one with the highest revision. */
export function currentReplicaSet(owned: readonly V1ReplicaSet[]): V1ReplicaSet | undefined {
  let current: V1ReplicaSet | undefined;
  for (const rs of owned) if (!current || revisionOf(rs) > revisionOf(current)) current = rs;
  return current;
}

export function revisionOf(rs: V1ReplicaSet): number {
  const value = Number(rs.metadata?.annotations?.[REVISION_ANNOTATION] ?? '0');
  return Number.isFinite(value) ? value : 0;
}

export type RevisionChoice =
  | { readonly ok: true; readonly replicaSet: V1ReplicaSet; readonly revision: number }
  | { readonly ok: false; readonly reason: 'NoHistory' | 'RevisionNotFound'; readonly message: string };

/** The ReplicaSet to go back to: the asked revision, or the second-highest (the one before current). */
export function chooseRevision(
  deploymentName: string,
  owned: readonly V1ReplicaSet[],
  toRevision?: number,
): RevisionChoice {
  if (toRevision !== undefined && toRevision > 0) {
    const found = owned.find((rs) => revisionOf(rs) === toRevision);
    return found
      ? { ok: true, replicaSet: found, revision: toRevision }
      : {
          ok: false,
          reason: 'RevisionNotFound',
          message: `unable to find specified revision ${toRevision} in history`,
        };
  }
  let max = 0;
  let second = 0;
  for (const rs of owned) {
    const v = revisionOf(rs);
    if (v > max) {
      second = max;
      max = v;
    } else if (v > second) second = v;
  }
  const previous = second > 0 ? owned.find((rs) => revisionOf(rs) === second) : undefined;
  if (!previous)
    return {
      ok: false,
      reason: 'NoHistory',
      message: `no rollout history found for deployment "${deploymentName}"`,
    };
  return { ok: true, replicaSet: previous, revision: second };
}

/** The ReplicaSet's template without the controller's `pod-template-hash` label. */
export function templateWithoutHash(rs: V1ReplicaSet): V1PodTemplateSpec {
  const template = JSON.parse(JSON.stringify(rs.spec?.template ?? {})) as V1PodTemplateSpec;
  if (template.metadata?.labels) {
    delete template.metadata.labels[POD_TEMPLATE_HASH];
  }
  return template;
}

/** Semantic equality of two templates, ignoring key order and the hash label. */
export function sameTemplate(a: V1PodTemplateSpec | undefined, b: V1PodTemplateSpec | undefined): boolean {
  const strip = (t: V1PodTemplateSpec | undefined) => {
    const copy = JSON.parse(JSON.stringify(t ?? {})) as V1PodTemplateSpec;
    if (copy.metadata?.labels) delete copy.metadata.labels[POD_TEMPLATE_HASH];
    return canonical(copy);
  };
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    // An empty map and a missing one serialise differently but mean the same template.
    const kept = entries.filter(
      ([, x]) => !(x !== null && typeof x === 'object' && !Array.isArray(x) && Object.keys(x).length === 0),
    );
    return Object.fromEntries(kept.sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, canonical(x)]));
  }
  return v;
}

/** The Deployment's skipped annotations plus the ReplicaSet's other annotations, as kubectl builds them. */
export function rollbackAnnotations(deployment: V1Deployment, rs: V1ReplicaSet): Record<string, string> {
  const out: Record<string, string> = {};
  const own = deployment.metadata?.annotations ?? {};
  for (const key of ANNOTATIONS_TO_SKIP) if (own[key] !== undefined) out[key] = own[key];
  for (const [key, value] of Object.entries(rs.metadata?.annotations ?? {})) {
    if (!ANNOTATIONS_TO_SKIP.includes(key)) out[key] = value;
  }
  return out;
}

/** The JSON patch kubectl sends: replace the template and the annotations. */
export function rollbackPatch(template: V1PodTemplateSpec, annotations: Record<string, string>): object[] {
  return [
    { op: 'replace', path: '/spec/template', value: template },
    { op: 'replace', path: '/metadata/annotations', value: annotations },
  ];
}

/** ReplicaSets controlled by the Deployment (kubectl lists by selector, then filters by controller UID). */
export function ownedBy(deployment: V1Deployment, replicaSets: readonly V1ReplicaSet[]): V1ReplicaSet[] {
  const uid = deployment.metadata?.uid;
  return replicaSets.filter((rs) =>
    rs.metadata?.ownerReferences?.some((o) => o.controller === true && o.uid === uid),
  );
}
