import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { isReboundError, describeError } from '../errors.ts';
import { readKubeEnvironment, readSearchPath } from '../config/cli-env.ts';
import { VERSION } from '../version.ts';
import { ApiError, DEFAULT_TIMEOUT_SECONDS, parseTimeoutSeconds } from './client.ts';
import { actionCommand } from './commands/action.ts';
import { analyticsCommand } from './commands/analytics.ts';
import { approvalsCommand, approveCommand, denyCommand } from './commands/approvals.ts';
import { automationCommand } from './commands/automation.ts';
import { dlqCommand, reloadCommand, replayCommand } from './commands/bus.ts';
import { configCommand, validateCommand } from './commands/config.ts';
import { demoCommand } from './commands/demo.ts';
import { eventsCommand, rulesCommand } from './commands/events.ts';
import { incidentsCommand } from './commands/incidents.ts';
import { serveCommand } from './commands/serve.ts';
import { sloCommand } from './commands/slo.ts';
import { testPatternCommand } from './commands/test-pattern.ts';
import { tokensCommand } from './commands/tokens.ts';
import { executionsCommand, taskCommand, workflowCommand, workflowsCommand } from './commands/workflows.ts';
import { EXIT, exitQuietlyWhenStdoutCloses } from './output.ts';

function kubeEnvironment() {
  const env = readKubeEnvironment();
  return { kubeconfigEnv: env.kubeconfigEnv, ...(env.homeDir ? { homeDir: env.homeDir } : {}) };
}

/** Builds the `rebound` program; every command has --help, global --url/--token reach the REST API. */
export function buildProgram(): Command {
  const program = new Command('rebound')
    .description('Rebound: event-driven auto-remediation for Kubernetes')
    .version(VERSION)
    .option('--url <url>', 'Rebound server for API commands (env REBOUND_URL; default http://127.0.0.1:8080)')
    .option('--token <token>', 'API token (env REBOUND_TOKEN)')
    .addOption(
      // No commander default: REBOUND_TIMEOUT must be able to stand in when the flag is absent.
      new Option(
        '--timeout <seconds>',
        `give up on an API answer after this many seconds (env REBOUND_TIMEOUT; default ${DEFAULT_TIMEOUT_SECONDS})`,
      ).argParser(parseTimeoutSeconds),
    )
    .showHelpAfterError('(run with --help for usage)')
    .helpCommand(false)
    .exitOverride();
  for (const command of [
    serveCommand(),
    validateCommand(),
    configCommand(),
    incidentsCommand(),
    eventsCommand(),
    rulesCommand(),
    dlqCommand(),
    replayCommand(),
    reloadCommand(),
    testPatternCommand(),
    workflowCommand(),
    workflowsCommand(),
    executionsCommand(),
    taskCommand(),
    actionCommand(kubeEnvironment()),
    automationCommand(),
    approvalsCommand(),
    approveCommand(),
    denyCommand(),
    sloCommand(),
    demoCommand(readSearchPath()),
    analyticsCommand(),
    tokensCommand(),
  ]) {
    program.addCommand(command);
  }
  program.addCommand(helpCommand(program));
  return program;
}

/** `rebound help [command...]`, replacing commander's: an unknown command is a usage error, not help. */
function helpCommand(program: Command): Command {
  return new Command('help')
    .description('display help for a command, e.g. rebound help incidents list')
    .argument('[command...]')
    .action((names: string[]) => {
      let target = program;
      for (const name of names) {
        const sub = target.commands.find((c) => c.name() === name || c.aliases().includes(name));
        if (!sub) {
          return target.error(`error: unknown command '${names.join(' ')}'`, {
            exitCode: EXIT.USAGE,
            code: 'commander.unknownCommand',
          });
        }
        target = sub;
      }
      target.help();
    });
}

/** Runs the CLI; exit codes: 0 ok, 1 failure, 2 usage error. */
export async function main(argv: readonly string[]): Promise<number> {
  exitQuietlyWhenStdoutCloses();
  const program = buildProgram();
  program.commands.forEach(function propagate(c: Command) {
    c.exitOverride();
    c.commands.forEach(propagate);
  });
  try {
    await program.parseAsync(argv as string[]);
    return EXIT.OK;
  } catch (err) {
    // Thrown by a command's own action (commander prints only what its parser refuses): say what it is.
    if (err instanceof InvalidArgumentError) {
      process.stderr.write(`error: ${err.message}\n`);
      return EXIT.USAGE;
    }
    // Commander has printed what it refused; --help and --version exit 0, a missing or unknown command (help
    // on stderr), an unknown option or a bad value are usage errors.
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    if (err instanceof ApiError) {
      process.stderr.write(`error: ${err.message}${err.code ? ` (${err.code})` : ''}\n`);
      return EXIT.FAILURE;
    }
    if (isReboundError(err)) {
      process.stderr.write(`error: ${err.message}\n`);
      return EXIT.FAILURE;
    }
    process.stderr.write(`error: ${describeError(err)}\n`);
    return EXIT.FAILURE;
  }
}

const code = await main(process.argv);
// Commands may set process.exitCode themselves (test-pattern: 1 for no match); only failures override it.
if (code !== EXIT.OK) process.exitCode = code;
