import type { V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import type { ActionDefinition } from '../types.ts';
import { refused } from './errors.ts';
import { gracePeriodSeconds, openSession, result, type K8sActionDeps } from './shared.ts';

export const deletePodParams = z
  .object({
    cluster: z.string().min(1).optional(),
    namespace: z.string().min(1).default('default'),
    name: z.string().min(1).optional(),
    /** Label selector, e.g. `app=web`; exactly one of name or selector. */
    selector: z.string().min(1).optional(),
    /** Refuse (and delete nothing) when the selector matches more pods than this. */
    maxCount: z.int().min(1).max(50).default(1),
    gracePeriodSeconds,
    /** Also delete pods no controller will recreate (they are gone for good). */
    force: z.boolean().default(false),
  })
  .strict()
  .refine((p) => (p.name === undefined) !== (p.selector === undefined), {
    message: 'give exactly one of name or selector',
    path: ['name'],
  });
export type DeletePodParams = z.infer<typeof deletePodParams>;

export interface DeletePodOutput {
  readonly cluster: string;
  readonly namespace: string;
  /** Pods deleted (name and UID), before → gone. */
  readonly deleted: readonly {
    readonly name: string;
    readonly uid: string | null;
    readonly phase: string | null;
  }[];
}

/**
 * One spelling of a label selector, for the target's lock, budget and idempotency key: requirements trimmed
 * and sorted, `==` written `=`, set values sorted. `tier=fe, app=web` and `app==web,tier=fe` select the same
 * pods, so they must lock as one target (the API server still gets the selector as written).
 */
export function canonicalSelector(selector: string): string {
  const requirements: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i <= selector.length; i++) {
    const c = selector[i];
    if (c === '(') depth += 1;
    else if (c === ')') depth -= 1;
    else if (i === selector.length || (c === ',' && depth === 0)) {
      const requirement = canonicalRequirement(selector.slice(start, i));
      if (requirement) requirements.push(requirement);
      start = i + 1;
    }
  }
  return requirements.sort().join(',');
}

function canonicalRequirement(text: string): string {
  const set = /^\s*(\S+)\s+(in|notin)\s*\(([^)]*)\)\s*$/.exec(text);
  if (set) {
    const values = set[3]!
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== '')
      .sort();
    return `${set[1]} ${set[2]} (${values.join(',')})`;
  }
  return text.replace(/\s+/g, '').replace(/^([^!=]+)==/, '$1=');
}

/** `k8s.deletePod`: delete a stuck pod (its controller replaces it), by name or selector, never more than maxCount. */
export function deletePodAction(deps: K8sActionDeps): ActionDefinition<DeletePodParams, DeletePodOutput> {
  return {
    name: 'k8s.deletePod',
    description: 'Delete a stuck pod (e.g. crash loop) by name or label selector, up to maxCount pods.',
    mutating: true,
    reportsChanges: true,
    params: deletePodParams,
    target: (p) => ({
      cluster: deps.clusters.select(p.cluster),
      namespace: p.namespace,
      kind: 'Pod',
      name: p.name ?? `selector:${canonicalSelector(p.selector!)}`,
    }),
    async run(params, ctx) {
      const { cluster, session } = openSession(deps, params.cluster, ctx);
      const { namespace } = params;
      let pods: V1Pod[];
      if (params.name !== undefined) {
        const name = params.name;
        pods = [
          await session.read(`reading pod ${namespace}/${name}`, () =>
            session.core.readNamespacedPod({ namespace, name }),
          ),
        ];
      } else {
        const list = await session.read(`listing pods ${params.selector} in ${namespace}`, () =>
          session.core.listNamespacedPod({ namespace, labelSelector: params.selector! }),
        );
        pods = list.items.filter((p) => p.metadata?.deletionTimestamp === undefined);
        if (pods.length > params.maxCount) {
          throw refused(
            'TooManyMatches',
            `selector ${params.selector} matches ${pods.length} pods in ${namespace}, more than maxCount ${params.maxCount}; narrow the selector`,
          );
        }
      }
      const unmanaged = pods.filter((p) => !p.metadata?.ownerReferences?.some((o) => o.controller === true));
      if (unmanaged.length > 0 && !params.force) {
        const names = unmanaged.map((p) => p.metadata?.name).join(', ');
        throw refused(
          'Unmanaged',
          `${names} in ${namespace} is not managed by a controller, so deleting it loses it for good; set force to delete anyway`,
        );
      }
      const deleted: DeletePodOutput['deleted'][number][] = [];
      for (const pod of pods) {
        const name = pod.metadata!.name!;
        await session.write(`deleting pod ${namespace}/${name}`, () =>
          session.core.deleteNamespacedPod({
            namespace,
            name,
            ...(params.gracePeriodSeconds === undefined
              ? {}
              : { gracePeriodSeconds: params.gracePeriodSeconds }),
          }),
        );
        deleted.push({ name, uid: pod.metadata?.uid ?? null, phase: pod.status?.phase ?? null });
      }
      return result<DeletePodOutput>({ cluster, namespace, deleted }, session.writes, deleted.length === 0);
    },
  };
}
