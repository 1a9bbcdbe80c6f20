import { readFile, writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { ReboundError } from '../../errors.ts';

/** `rebound slo generate <file> [-o out]`: SLO definitions → multi-window multi-burn-rate Prometheus rules. */
export function sloCommand(): Command {
  const slo = new Command('slo').description('service level objectives: burn-rate alerting rules');
  slo
    .command('generate')
    .description('turn SLO definitions (YAML) into Prometheus recording and alerting rules')
    .argument('<file>', 'SLO definitions, e.g. deploy/prometheus/slo.yaml')
    .option('-o, --output <file>', 'write the rules to this file instead of stdout')
    .action(async (file: string, options: { output?: string }) => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new ReboundError('NOT_FOUND', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
      }
      const { generateSloRules } = await import('../../slo/generate.ts'); // loaded when run
      const rules = generateSloRules(text, file);
      if (options.output === undefined) {
        process.stdout.write(rules);
        return;
      }
      await writeFile(options.output, rules);
      process.stderr.write(
        `wrote ${options.output}; check it with: promtool check rules ${options.output}\n`,
      );
    });
  return slo;
}
