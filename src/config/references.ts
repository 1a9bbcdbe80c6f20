import { resolve } from 'node:path';
import { ReboundError } from '../errors.ts';
import { DEFAULT_RUNBOOKS_DIR, type Config } from './schema.ts';

/** A place in the configuration that names a runbook (workflow), by key path. */
export interface RunbookReference {
  /** e.g. `incidents.runbooks.routes[0].runbook`, `bus.rules[2].targets[0].workflow`. */
  readonly path: string;
  readonly runbook: string;
}

/** Every runbook the configuration names: incident routes, the fallback and bus `workflow` targets. */
export function runbookReferences(config: Config): RunbookReference[] {
  const routing = config.incidents.runbooks;
  return [
    ...routing.routes.map((route, i) => ({
      path: `incidents.runbooks.routes[${i}].runbook`,
      runbook: route.runbook,
    })),
    { path: 'incidents.runbooks.fallback', runbook: routing.fallback },
    ...config.bus.rules.flatMap((rule, i) =>
      rule.targets.flatMap((target, j) =>
        target.kind === 'workflow'
          ? [{ path: `bus.rules[${i}].targets[${j}].workflow`, runbook: target.workflow }]
          : [],
      ),
    ),
  ];
}

/** Where runbooks are read from (against the working directory), and whether the configuration chose it. */
export function runbooksDirectory(config: Config): { path: string; configured: boolean } {
  const configured = config.workflows.runbooksDir;
  return { path: resolve(configured ?? DEFAULT_RUNBOOKS_DIR), configured: configured !== undefined };
}

/** A configured runbooks directory that is missing: a typo to fix before start (the default may be absent). */
export function missingRunbooksDir(path: string): ReboundError {
  return new ReboundError(
    'INVALID_CONFIG',
    `workflows.runbooksDir: ${path} does not exist; create it, correct the path, ` +
      `or remove the key to use ./${DEFAULT_RUNBOOKS_DIR}`,
    { path: 'workflows.runbooksDir' },
  );
}

/** Secrets outside `server.auth` that requests are checked with, for the placeholder check at exposure. */
export function exposedSecrets(config: Config): { path: string; value: string | undefined }[] {
  return [{ path: 'slack.signingSecret', value: config.slack?.signingSecret }];
}
