import { isReady } from './controller.ts';
import type { Json } from './patch.ts';
import { matchesLabelSelector } from './selectors.ts';
import { failure, notFound, type StatusError } from './status.ts';
import type { K8sObject, ObjectStore } from './store.ts';

/**
 * PodDisruptionBudget arithmetic and the Eviction subresource
 * (https://kubernetes.io/docs/concepts/scheduling-eviction/api-eviction/): an eviction that would take the
 * healthy pod count below what the budget demands gets 429 TooManyRequests; a missing pod gets 404; a pod
 * covered by more than one budget gets 500.
 */

type Obj = { [key: string]: Json };
const asObj = (v: Json | undefined): Obj =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {};

export interface BudgetStatus {
  readonly expectedPods: number;
  readonly currentHealthy: number;
  readonly desiredHealthy: number;
  readonly disruptionsAllowed: number;
}

/** Resolves an int-or-percent against a total, rounding up as the disruption controller does. */
function scaled(value: Json | undefined, total: number): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\d+%$/.test(value))
    return Math.ceil((Number(value.slice(0, -1)) * total) / 100);
  return undefined;
}

export function budgetStatus(pdb: K8sObject, store: ObjectStore): BudgetStatus {
  const spec = asObj(pdb['spec']);
  const pods = store
    .list('pods', pdb.metadata.namespace)
    .filter((p) => matchesLabelSelector(spec['selector'], p.metadata.labels ?? {}));
  const expectedPods = pods.filter((p) => p.metadata['deletionTimestamp'] === undefined).length;
  const currentHealthy = pods.filter(isReady).length;
  const minAvailable = scaled(spec['minAvailable'], expectedPods);
  const maxUnavailable = scaled(spec['maxUnavailable'], expectedPods);
  const desiredHealthy =
    minAvailable ?? (maxUnavailable === undefined ? 0 : Math.max(0, expectedPods - maxUnavailable));
  return {
    expectedPods,
    currentHealthy,
    desiredHealthy,
    disruptionsAllowed: Math.max(0, currentHealthy - desiredHealthy),
  };
}

/** Returns the PDB with its computed `.status`, as GET shows it. */
export function withBudgetStatus(pdb: K8sObject, store: ObjectStore): K8sObject {
  const s = budgetStatus(pdb, store);
  return { ...pdb, status: { ...s, observedGeneration: pdb.metadata.generation ?? 1 } };
}

/** Decides an eviction; returns the error to send, or undefined when the pod may go. */
export function checkEviction(
  store: ObjectStore,
  namespace: string,
  name: string,
  neverEvictable: ReadonlySet<string>,
): StatusError | undefined {
  const pod = store.get('pods', namespace, name);
  if (!pod) return notFound('pods', '', name);
  if (neverEvictable.has(`${namespace}/${name}`))
    return tooMany(`test hook: pod ${namespace}/${name} is never evictable`);
  // As the API server: a pod that has finished, has not started, or is already being deleted is evicted
  // without looking at any budget.
  const phase = asObj(pod['status'])['phase'];
  if (phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending') return undefined;
  if (pod.metadata['deletionTimestamp'] !== undefined) return undefined;
  const budgets = store
    .list('poddisruptionbudgets', namespace)
    .filter((b) => matchesLabelSelector(asObj(b['spec'])['selector'], pod.metadata.labels ?? {}));
  if (budgets.length > 1) {
    return failure(
      500,
      'InternalError',
      'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
    );
  }
  const budget = budgets[0];
  if (!budget) return undefined;
  const s = budgetStatus(budget, store);
  if (!isReady(pod)) {
    // An unhealthy pod (unhealthyPodEvictionPolicy, Kubernetes 1.26+): `AlwaysAllow` lets it go; the default
    // `IfHealthyBudget` only while the application is healthy enough, else the budget decides as for any
    // pod (so when every pod crash-loops, a drain waits rather than taking them all).
    if (asObj(budget['spec'])['unhealthyPodEvictionPolicy'] === 'AlwaysAllow') return undefined;
    if (s.currentHealthy >= s.desiredHealthy && s.desiredHealthy > 0) return undefined;
  }
  if (s.disruptionsAllowed > 0) return undefined;
  return tooMany(
    `The disruption budget ${budget.metadata.name} needs ${s.desiredHealthy} healthy pods and has ${s.currentHealthy} currently`,
  );
}

function tooMany(cause: string): StatusError {
  return failure(
    429,
    'TooManyRequests',
    "Cannot evict pod as it would violate the pod's disruption budget.",
    {
      causes: [{ reason: 'DisruptionBudget', message: cause }],
    },
  );
}

export type { K8sObject };
