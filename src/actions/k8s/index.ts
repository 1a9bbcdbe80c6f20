import { configSetAction } from '../config/set.ts';
import type { ActionDefinition } from '../types.ts';
import { deletePodAction } from './delete-pod.ts';
import { drainAction } from './drain.ts';
import { cordonAction, uncordonAction } from './nodes.ts';
import { restartAction } from './restart.ts';
import { rollbackAction } from './rollback.ts';
import { scaleAction } from './scale.ts';
import type { K8sActionDeps } from './shared.ts';
import { waitRolloutAction } from './wait-rollout.ts';

export {
  ClusterDirectory,
  kubernetesConfigSchema,
  type KubernetesConfig,
  type KubeEnvironment,
} from './config.ts';
export { K8sActionError } from './errors.ts';
export type { K8sActionDeps } from './shared.ts';

/** Every Kubernetes action (and config.set, which acts on a ConfigMap), ready for the registry. */
export function kubernetesActions(deps: K8sActionDeps): ActionDefinition[] {
  const all = [
    scaleAction(deps),
    restartAction(deps),
    rollbackAction(deps),
    configSetAction(deps),
    cordonAction(deps),
    uncordonAction(deps),
    drainAction(deps),
    deletePodAction(deps),
    waitRolloutAction(deps),
  ];
  return all as unknown as ActionDefinition[];
}
