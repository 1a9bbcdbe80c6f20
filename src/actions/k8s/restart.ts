import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { z } from 'zod';
import type { ActionDefinition } from '../types.ts';
import type { K8sSession } from './client.ts';
import { refused } from './errors.ts';
import { namespacedRef, openSession, result, rfc3339, targetOf, type K8sActionDeps } from './shared.ts';

export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

export const restartParams = z.object({ ...namespacedRef }).strict();
export type RestartParams = z.infer<typeof restartParams>;

export interface RestartOutput {
  readonly cluster: string;
  readonly namespace: string;
  readonly name: string;
  readonly restartedAt: { readonly before: string | null; readonly after: string };
  readonly generation: { readonly before: number | null; readonly after: number | null };
}

/** The strategic-merge patch `kubectl rollout restart` sends (kubectl ObjectRestarter for Deployments). */
export function restartPatch(at: string): object {
  return { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: at } } } } };
}

/** `k8s.restart`: rollout restart exactly as kubectl does it; refuses a paused Deployment like kubectl. */
export function restartAction(deps: K8sActionDeps): ActionDefinition<RestartParams, RestartOutput> {
  return {
    name: 'k8s.restart',
    description: 'Rolling restart of a Deployment (kubectl rollout restart).',
    mutating: true,
    reportsChanges: true,
    params: restartParams,
    target: (p) => targetOf(deps, p, 'Deployment'),
    async run(params, ctx) {
      const { cluster, session } = openSession(deps, params.cluster, ctx);
      const change = await restartDeployment(session, params.namespace, params.name, ctx.now());
      return result<RestartOutput>(
        { cluster, namespace: params.namespace, name: params.name, ...change },
        session.writes,
      );
    },
  };
}

/** Reads the Deployment, refuses if paused, and sends kubectl's restart patch; shared with config.set. */
export async function restartDeployment(
  session: K8sSession,
  namespace: string,
  name: string,
  now: Date,
): Promise<Pick<RestartOutput, 'restartedAt' | 'generation'>> {
  const dep = await session.read(`reading deployment ${namespace}/${name}`, () =>
    session.apps.readNamespacedDeployment({ namespace, name }),
  );
  if (dep.spec?.paused) {
    throw refused(
      'Paused',
      `can't restart paused deployment ${namespace}/${name} (run kubectl rollout resume first)`,
    );
  }
  const at = rfc3339(now);
  // Landed but unanswered, a retry would restart the pods a second time.
  const updated = await session.writeConfirmed(
    `restarting deployment ${namespace}/${name}`,
    () =>
      session.apps.patchNamespacedDeployment(
        { namespace, name, body: restartPatch(at) },
        setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
      ),
    async () => {
      const now = await session.read(`re-reading deployment ${namespace}/${name}`, () =>
        session.apps.readNamespacedDeployment({ namespace, name }),
      );
      return now.spec?.template.metadata?.annotations?.[RESTARTED_AT] === at;
    },
  );
  return {
    restartedAt: { before: dep.spec?.template.metadata?.annotations?.[RESTARTED_AT] ?? null, after: at },
    generation: { before: dep.metadata?.generation ?? null, after: updated?.metadata?.generation ?? null },
  };
}
