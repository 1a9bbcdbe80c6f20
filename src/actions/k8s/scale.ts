import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { z } from 'zod';
import type { ActionDefinition } from '../types.ts';
import type { ScaleBounds } from './config.ts';
import { namespacedRef, openSession, result, targetOf, type K8sActionDeps } from './shared.ts';

export const scaleParams = z
  .object({
    ...namespacedRef,
    /** Absolute replica count. */
    replicas: z.int().min(0).optional(),
    /** Step: +N to scale out, -N to scale in. */
    by: z.int().optional(),
    /** Multiply the current count (ceil when growing, floor when shrinking). */
    factor: z.number().positive().optional(),
  })
  .strict()
  .refine((p) => [p.replicas, p.by, p.factor].filter((v) => v !== undefined).length === 1, {
    message: 'give exactly one of replicas, by or factor',
    path: ['replicas'],
  });
export type ScaleParams = z.infer<typeof scaleParams>;

export interface ScaleOutput {
  readonly cluster: string;
  readonly namespace: string;
  readonly name: string;
  readonly replicas: { readonly before: number; readonly after: number };
  /** What the parameters asked for before clamping. */
  readonly requested: number;
  readonly clamped: boolean;
  readonly bounds: ScaleBounds;
}

/**
 * The count asked for, then clamped to the target's bounds, but never past the current count the other way:
 * asked to grow a Deployment an autoscaler has already taken above `max`, it stays where it is rather than
 * shrinking to `max` in the middle of an incident (and likewise when shrinking below `min`). Zero only where
 * the target allows it.
 */
export function desiredReplicas(
  current: number,
  params: ScaleParams,
  bounds: ScaleBounds,
): { requested: number; after: number } {
  let requested: number;
  if (params.replicas !== undefined) requested = params.replicas;
  else if (params.by !== undefined) requested = current + params.by;
  else {
    const raw = current * params.factor!;
    requested = params.factor! >= 1 ? Math.ceil(raw) : Math.floor(raw);
  }
  requested = Math.max(0, requested);
  const floor = bounds.allowZero ? bounds.min : Math.max(1, bounds.min);
  const clamped = Math.min(bounds.max, Math.max(floor, requested));
  if (requested > current) return { requested, after: Math.max(current, clamped) };
  if (requested < current) return { requested, after: Math.min(current, clamped) };
  return { requested, after: current };
}

/** `k8s.scale`: kubectl scale's wire form — merge patch `{"spec":{"replicas":N}}` on the scale subresource. */
export function scaleAction(deps: K8sActionDeps): ActionDefinition<ScaleParams, ScaleOutput> {
  return {
    name: 'k8s.scale',
    description: 'Set a Deployment’s replicas (absolute, step or factor), clamped to the configured bounds.',
    mutating: true,
    reportsChanges: true,
    params: scaleParams,
    target: (p) => targetOf(deps, p, 'Deployment'),
    async run(params, ctx) {
      const { cluster, session } = openSession(deps, params.cluster, ctx);
      const { namespace, name } = params;
      const scale = await session.read(`reading scale of deployment ${namespace}/${name}`, () =>
        session.apps.readNamespacedDeploymentScale({ namespace, name }),
      );
      const before = scale.spec?.replicas ?? 0;
      const bounds = deps.clusters.scaleBounds(cluster, namespace, name);
      const { requested, after } = desiredReplicas(before, params, bounds);
      const output: ScaleOutput = {
        cluster,
        namespace,
        name,
        replicas: { before, after },
        requested,
        clamped: requested !== after,
        bounds,
      };
      if (after === before) return result(output, session.writes, true);
      await session.writeConfirmed(
        `scaling deployment ${namespace}/${name} to ${after}`,
        () =>
          session.apps.patchNamespacedDeploymentScale(
            { namespace, name, body: { spec: { replicas: after } } },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          ),
        async () => {
          const now = await session.read(`re-reading scale of deployment ${namespace}/${name}`, () =>
            session.apps.readNamespacedDeploymentScale({ namespace, name }),
          );
          return now.spec?.replicas === after;
        },
      );
      return result(output, session.writes);
    },
  };
}
