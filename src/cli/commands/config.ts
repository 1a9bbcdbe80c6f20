import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { createApp } from '../../app.ts';
import { RuleSet } from '../../bus/rules.ts';
import { readKubeEnvironment } from '../../config/cli-env.ts';
import { configJsonSchema, loadConfig } from '../../config/load.ts';
import {
  exposedSecrets,
  missingRunbooksDir,
  runbookReferences,
  runbooksDirectory,
} from '../../config/references.ts';
import type { Config } from '../../config/schema.ts';
import { assertExposureIsAuthenticated } from '../../http/auth.ts';
import { loadRunbooks } from '../../workflows/registry.ts';
import { printJson } from '../output.ts';

/** `rebound validate [file]`: checks a configuration without starting anything. */
export function validateCommand(): Command {
  return new Command('validate')
    .description(
      'check a configuration file and the runbooks it loads, without starting anything (exit 0 valid, 1 invalid)',
    )
    .argument('[file]', 'configuration file', 'rebound.yaml')
    .action(async (file: string) => {
      const { config, source } = await loadConfig({ path: file });
      // What `serve` refuses before it starts: rules the bus cannot load (the defaults included), exposure
      // without authentication, a configured runbooks directory that is missing, an invalid runbook.
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
    });
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

/** `rebound config schema`: prints the JSON Schema of rebound.yaml for editors. */
export function configCommand(): Command {
  const config = new Command('config').description('inspect the configuration format');
  config
    .command('schema')
    .description("print the JSON Schema of rebound.yaml (point your editor's YAML language server at it)")
    .action(() => printJson(configJsonSchema()));
  return config;
}
