import { Command } from 'commander';
import { printJson } from '../output.ts';

/** `rebound validate [file]`: checks a configuration without starting anything. */
export function validateCommand(): Command {
  return (
    new Command('validate')
      .description(
        'check a configuration file and the runbooks it loads, without starting anything (exit 0 valid, 1 invalid)',
      )
      .argument(
        '[file]',
        'configuration file (default: ./rebound.yaml, or the built-in defaults when there is none, as serve reads it)',
      )
      // Loaded when run: the other commands start without the configuration schema and the app.
      .action(async (file: string | undefined) =>
        (await import('./validate-config.ts')).validateConfigFile(file),
      )
  );
}

/** `rebound config schema`: prints the JSON Schema of rebound.yaml for editors. */
export function configCommand(): Command {
  const config = new Command('config').description('inspect the configuration format');
  config
    .command('schema')
    .description("print the JSON Schema of rebound.yaml (point your editor's YAML language server at it)")
    .action(async () => printJson((await import('../../config/load.ts')).configJsonSchema()));
  return config;
}
