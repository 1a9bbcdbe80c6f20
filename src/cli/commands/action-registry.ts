import { homedir } from 'node:os';
import { kubernetesActions } from '../../actions/k8s/index.ts';
import { ClusterDirectory, kubernetesConfigSchema, type KubernetesConfig } from '../../actions/k8s/config.ts';
import { ActionRegistry } from '../../actions/registry.ts';
import { loadConfig } from '../../config/load.ts';
import { ReboundError } from '../../errors.ts';
import type { ActionCommandOptions, RunOptions } from './action.ts';

/** The registry of every built-in action over the given clusters. */
function createActionRegistry(clusters: ClusterDirectory): ActionRegistry {
  return new ActionRegistry(kubernetesActions({ clusters }));
}

/** Every built-in action, over no configured cluster (for listing them). */
export function builtInRegistry(): ActionRegistry {
  return createActionRegistry(new ClusterDirectory(kubernetesConfigSchema.parse({})));
}

/** The actions over the clusters `rebound action run` names: --kubeconfig/--context, or the configuration's. */
export async function buildRegistry(options: ActionCommandOptions, o: RunOptions): Promise<ActionRegistry> {
  let section: KubernetesConfig;
  if (o.kubeconfig || o.context) {
    // An explicit kubeconfig stands in for the configured clusters, under the name asked for.
    const name = o.cluster ?? 'cli';
    section = kubernetesConfigSchema.parse({
      defaultCluster: name,
      clusters: {
        [name]: {
          ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}),
          ...(o.context ? { context: o.context } : {}),
        },
      },
    });
  } else {
    const load = options.loadKubernetesSection ?? defaultSection;
    const parsed = kubernetesConfigSchema.safeParse((await load(o.config)) ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ReboundError('INVALID_CONFIG', `kubernetes.${issue.path.join('.')}: ${issue.message}`);
    }
    section = parsed.data;
  }
  const clusters = new ClusterDirectory(section, {
    kubeconfigEnv: options.kubeconfigEnv,
    homeDir: options.homeDir ?? homedir(),
  });
  return createActionRegistry(clusters);
}

async function defaultSection(configPath: string | undefined): Promise<unknown> {
  const { config } = await loadConfig(configPath ? { path: configPath } : {});
  return (config as Record<string, unknown>)['kubernetes'];
}
