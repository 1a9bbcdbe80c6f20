import { z } from 'zod';
import type { ActionDefinition } from '../types.ts';
import { K8sActionError } from './errors.ts';
import { rolloutStatus } from './rollout-status.ts';
import {
  deadlineOf,
  namespacedRef,
  openSession,
  pause,
  result,
  timedOut,
  type K8sActionDeps,
} from './shared.ts';

export const waitRolloutParams = z
  .object({
    ...namespacedRef,
    timeoutSeconds: z.int().min(1).max(3600).default(300),
  })
  .strict();
export type WaitRolloutParams = z.infer<typeof waitRolloutParams>;

export interface WaitRolloutOutput {
  readonly cluster: string;
  readonly namespace: string;
  readonly name: string;
  readonly message: string;
  readonly revision: string | null;
  readonly polls: number;
}

/** `k8s.waitRollout` (read-only): polls until kubectl's rollout-status rules say done, fail, or the deadline passes. */
export function waitRolloutAction(
  deps: K8sActionDeps,
): ActionDefinition<WaitRolloutParams, WaitRolloutOutput> {
  return {
    name: 'k8s.waitRollout',
    description: 'Wait until a Deployment rollout completes (kubectl rollout status) or a deadline passes.',
    mutating: false,
    readOnly: true,
    params: waitRolloutParams,
    async run(params, ctx) {
      const { cluster, session } = openSession(deps, params.cluster, ctx);
      const { namespace, name } = params;
      const deadline = deadlineOf(ctx, params.timeoutSeconds);
      for (let polls = 1; ; polls++) {
        const dep = await session.read(`reading deployment ${namespace}/${name}`, () =>
          session.apps.readNamespacedDeployment({ namespace, name }),
        );
        const status = rolloutStatus(dep);
        if (status.state === 'done') {
          const revision = dep.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? null;
          return result<WaitRolloutOutput>(
            { cluster, namespace, name, message: status.message, revision, polls },
            session.writes,
          );
        }
        if (status.state === 'failed') {
          throw new K8sActionError(`${namespace}/${name}: ${status.message}; roll back or fix the new pods`, {
            status: 0,
            reason: 'ProgressDeadlineExceeded',
            retryable: false,
          });
        }
        if (ctx.now().getTime() >= deadline) {
          throw timedOut(
            `rollout of ${namespace}/${name} did not complete within ${params.timeoutSeconds}s: ${status.message}`,
          );
        }
        await pause(deps, deps.clusters.config.pollIntervalMs, ctx.signal);
      }
    },
  };
}
