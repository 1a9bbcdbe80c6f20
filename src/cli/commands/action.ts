import { Command, InvalidArgumentError, Option } from 'commander';
import { refuseNonFinite } from '../args.ts';
import { printJson, printTable } from '../output.ts';

// The actions (and the Kubernetes client under them) are loaded when a subcommand runs, from
// action-registry.ts: the other commands start without them.

export interface ActionCommandOptions {
  /** The `KUBECONFIG` value, passed in by the caller (only src/config reads the environment). */
  readonly kubeconfigEnv?: string | undefined;
  readonly homeDir?: string;
  /** Returns the raw `kubernetes:` section; defaults to reading it from rebound.yaml (or `--config`). */
  readonly loadKubernetesSection?: (configPath: string | undefined) => Promise<unknown>;
}

export interface RunOptions {
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
      const registry = await (await import('./action-registry.ts')).buildRegistry(options, o);
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
    .action(async (o: { output: 'table' | 'json' }) => {
      const registry = (await import('./action-registry.ts')).builtInRegistry();
      const actions = registry.list();
      if (o.output === 'json') return printJson(actions);
      printTable(
        actions.map((a) => ({ ...a, mutating: a.mutating ? 'yes' : 'no', params: paramNames(a.params) })),
        ['name', 'mutating', 'params', 'description'],
      );
    });
  return cmd;
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
  refuseNonFinite(text, value, '--params');
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
