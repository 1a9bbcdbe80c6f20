import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { RuleSet } from '../../bus/rules.ts';
import { configJsonSchema, loadConfig } from '../../config/load.ts';
import { exposedSecrets, missingRunbooksDir, runbooksDirectory } from '../../config/references.ts';
import { assertExposureIsAuthenticated } from '../../http/auth.ts';
import { printJson } from '../output.ts';

/** `rebound validate [file]`: checks a configuration without starting anything. */
export function validateCommand(): Command {
  return new Command('validate')
    .description('check a configuration file without starting anything (exit 0 valid, 1 invalid)')
    .argument('[file]', 'configuration file', 'rebound.yaml')
    .action(async (file: string) => {
      const { config, source } = await loadConfig({ path: file });
      // What `serve` refuses before it starts: rules the bus cannot load (the defaults included), exposure
      // without authentication, a configured runbooks directory that is missing.
      new RuleSet(config.bus.rules);
      assertExposureIsAuthenticated(config.server, exposedSecrets(config));
      const runbooks = runbooksDirectory(config);
      if (runbooks.configured && !existsSync(runbooks.path)) throw missingRunbooksDir(runbooks.path);
      process.stdout.write(`${source} is valid\n`);
    });
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
