import { Command } from 'commander';
import { configJsonSchema, loadConfig } from '../../config/load.ts';
import { assertExposureIsAuthenticated } from '../../http/auth.ts';
import { printJson } from '../output.ts';

/** `rebound validate [file]`: checks a configuration without starting anything. */
export function validateCommand(): Command {
  return new Command('validate')
    .description('check a configuration file without starting anything (exit 0 valid, 1 invalid)')
    .argument('[file]', 'configuration file', 'rebound.yaml')
    .action(async (file: string) => {
      const { config, source } = await loadConfig({ path: file });
      assertExposureIsAuthenticated(config.server);
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
