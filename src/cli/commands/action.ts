import { homedir } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { kubernetesActions } from '../../actions/k8s/index.ts';
import { ClusterDirectory, kubernetesConfigSchema, type KubernetesConfig } from '../../actions/k8s/config.ts';
import { ActionRegistry } from '../../actions/registry.ts';
import { loadConfig } from '../../config/load.ts';
import { ReboundError } from '../../errors.ts';
import { printJson, printTable } from '../output.ts';

export interface ActionCommandOptions {
  /** The `KUBECONFIG` value, passed in by the caller (only src/config reads the environment). */
  readonly kubeconfigEnv?: string | undefined;
  readonly homeDir?: string;
  /** Returns the raw `kubernetes:` section; defaults to reading it from rebound.yaml (or `--config`). */
  readonly loadKubernetesSection?: (configPath: string | undefined) => Promise<unknown>;
}

interface RunOptions {
  params: string;
  shadow?: boolean;
  cluster?: string;
  config?: string;
  kubeconfig?: string;
  context?: string;
}

/** `rebound action run|list`: run one remediation action by hand (or in shadow mode), list actions. */
export function actionCommand(options: ActionCommandOptions = {}): Command {
  const cmd = new Command('action').description('run a remediation action by hand, or list the actions');
  cmd
    .command('run')
    .description('run one action and print its result (before → after, and every write request) as JSON')
    .argument('<action>', 'action name, e.g. k8s.restart')
    .option('--params <json>', 'parameters as a JSON object', '{}')
    .option(
      '--shadow',
      'record the write requests it would send instead of sending them (reads still happen)',
    )
    .option('--cluster <name>', 'cluster from kubernetes.clusters (default: kubernetes.defaultCluster)')
    .option('--config <file>', 'configuration file (default ./rebound.yaml)')
    .option('--kubeconfig <file>', 'use this kubeconfig instead of the configured clusters')
    .option('--context <name>', 'kubeconfig context (with --kubeconfig, or KUBECONFIG/~/.kube/config)')
    .action(async (name: string, o: RunOptions) => {
      const registry = await buildRegistry(options, o);
      const params = withCluster(parseParams(o.params), o.cluster);
      const result = await registry.run(name, params, {
        idempotencyKey: `cli:${name}:${Date.now()}`,
        shadow: o.shadow === true,
        signal: AbortSignal.timeout(60 * 60 * 1000),
        now: () => new Date(),
      });
      printJson({ action: name, shadow: o.shadow === true, ...result });
    });
  cmd
    .command('list')
    .description('list actions with their parameter schemas')
    .addOption(
      new Option('-o, --output <format>', 'table or json').choices(['table', 'json']).default('table'),
    )
    .action((o: { output: 'table' | 'json' }) => {
      const registry = createActionRegistry(new ClusterDirectory(kubernetesConfigSchema.parse({})));
      const actions = registry.list();
      if (o.output === 'json') return printJson(actions);
      printTable(
        actions.map((a) => ({ ...a, mutating: a.mutating ? 'yes' : 'no', params: paramNames(a.params) })),
        ['name', 'mutating', 'params', 'description'],
      );
    });
  return cmd;
}

/** The registry of every built-in action over the given clusters. */
export function createActionRegistry(clusters: ClusterDirectory): ActionRegistry {
  return new ActionRegistry(kubernetesActions({ clusters }));
}

async function buildRegistry(options: ActionCommandOptions, o: RunOptions): Promise<ActionRegistry> {
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

function parseParams(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(
      `--params is not JSON (${(err as Error).message}); e.g. --params '{"name":"web"}'`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentError(
      `--params must be a JSON object, e.g. --params '{"namespace":"shop","name":"web"}'`,
    );
  }
  return value as Record<string, unknown>;
}

function withCluster(params: Record<string, unknown>, cluster: string | undefined): Record<string, unknown> {
  return cluster === undefined ? params : { ...params, cluster };
}

function paramNames(schema: unknown): string {
  const s = schema as { properties?: Record<string, unknown>; required?: string[] };
  const required = new Set(s.required ?? []);
  return Object.keys(s.properties ?? {})
    .map((k) => (required.has(k) ? k : `${k}?`))
    .join(' ');
}
