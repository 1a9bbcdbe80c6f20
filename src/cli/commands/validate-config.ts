import { existsSync } from 'node:fs';
import { createApp } from '../../app.ts';
import { RuleSet } from '../../bus/rules.ts';
import { readKubeEnvironment } from '../../config/cli-env.ts';
import { loadConfig } from '../../config/load.ts';
import {
  exposedSecrets,
  missingRunbooksDir,
  runbookReferences,
  runbooksDirectory,
} from '../../config/references.ts';
import type { Config } from '../../config/schema.ts';
import { assertExposureIsAuthenticated } from '../../http/auth.ts';
import { loadRunbooks } from '../../workflows/registry.ts';

/**
 * `rebound validate FILE`: what `serve` refuses before it starts (rules the bus cannot load, the defaults
 * included; exposure without authentication; a configured runbooks directory that is missing; an invalid
 * runbook), without starting anything.
 */
export async function validateConfigFile(file: string): Promise<void> {
  const { config, source } = await loadConfig({ path: file });
  new RuleSet(config.bus.rules);
  assertExposureIsAuthenticated(config.server, exposedSecrets(config));
  const runbooks = runbooksDirectory(config);
  if (runbooks.configured && !existsSync(runbooks.path)) throw missingRunbooksDir(runbooks.path);
  const loaded = existsSync(runbooks.path) ? await checkRunbooks(config, runbooks.path) : undefined;
  process.stdout.write(
    loaded === undefined
      ? `${source} is valid (no runbooks: ${runbooks.path} does not exist)\n`
      : `${source} is valid, with ${loaded} runbook(s) from ${runbooks.path}\n`,
  );
}

/**
 * Loads the runbooks as `serve` does, each Task checked against the actions this configuration gives the
 * server: the app is built (not started) on an in-memory store, so nothing on disk is touched. Runbooks the
 * configuration names but the directory lacks are a warning, as at start-up. Returns how many loaded.
 */
async function checkRunbooks(config: Config, directory: string): Promise<number> {
  const app = createApp({
    config: {
      ...config,
      logging: { ...config.logging, level: 'silent' },
      store: { ...config.store, sqlite: { ...config.store.sqlite, path: ':memory:' } },
    },
    kubeEnvironment: readKubeEnvironment(),
  });
  try {
    const loaded = await loadRunbooks(app.workflows, directory);
    for (const r of runbookReferences(config))
      if (app.workflows.get(r.runbook) === undefined)
        process.stderr.write(`warning: ${r.path} names runbook '${r.runbook}', which ${directory} lacks\n`);
    return loaded.length;
  } finally {
    await app.stop();
  }
}
