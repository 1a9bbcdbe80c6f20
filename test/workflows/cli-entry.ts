// A `rebound` program holding only the workflow commands, so their tests run them as a real process.
import { Command } from 'commander';
import {
  executionsCommand,
  taskCommand,
  workflowCommand,
  workflowsCommand,
} from '../../src/cli/commands/workflows.ts';

const program = new Command('rebound').option('--url <url>').option('--token <token>');
for (const c of [workflowCommand(), workflowsCommand(), executionsCommand(), taskCommand()])
  program.addCommand(c);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`error: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
