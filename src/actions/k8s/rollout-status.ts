import type { V1Deployment } from '@kubernetes/client-node';

/** kubectl's DeploymentStatusViewer (pkg/polymorphichelpers/rollout_status.go), as a pure function. */
export type RolloutStatus =
  | { readonly state: 'done'; readonly message: string }
  | { readonly state: 'waiting'; readonly message: string }
  | { readonly state: 'failed'; readonly message: string };

export function rolloutStatus(dep: V1Deployment): RolloutStatus {
  const name = dep.metadata?.name ?? '';
  const generation = dep.metadata?.generation ?? 0;
  const status = dep.status ?? {};
  if (generation > (status.observedGeneration ?? 0)) {
    return { state: 'waiting', message: 'Waiting for deployment spec update to be observed...' };
  }
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return { state: 'failed', message: `deployment "${name}" exceeded its progress deadline` };
  }
  const wanted = dep.spec?.replicas;
  const updated = status.updatedReplicas ?? 0;
  if (wanted !== undefined && updated < wanted) {
    return {
      state: 'waiting',
      message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${wanted} new replicas have been updated...`,
    };
  }
  if ((status.replicas ?? 0) > updated) {
    return {
      state: 'waiting',
      message: `Waiting for deployment "${name}" rollout to finish: ${(status.replicas ?? 0) - updated} old replicas are pending termination...`,
    };
  }
  if ((status.availableReplicas ?? 0) < updated) {
    return {
      state: 'waiting',
      message: `Waiting for deployment "${name}" rollout to finish: ${status.availableReplicas ?? 0} of ${updated} updated replicas are available...`,
    };
  }
  return { state: 'done', message: `deployment "${name}" successfully rolled out` };
}
