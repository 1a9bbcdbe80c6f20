import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { INSTALL_DIRS } from '../../demo/monitoring.ts';
import { SCENARIOS, type ScenarioName } from '../../demo/scenarios.ts';

/** `rebound demo`: the whole loop on loopback, narrated live (see docs/demo.md). */
export function demoCommand(searchPath: string): Command {
  return (
    new Command('demo')
      .description(
        'run the checkout service (pods as processes on a Kubernetes stand-in), real Prometheus and Alertmanager, ' +
          'and Rebound with the shipped runbooks; inject a fault and narrate detection → remediation → verification',
      )
      .addOption(
        new Option('--scenario <name>', 'the fault to inject').choices([...SCENARIOS]).default('error-rate'),
      )
      .option('--once', 'stop after one loop; exit 0 only if the incident resolved')
      .option('--runbooks <dir>', 'runbooks directory (default: the shipped runbooks/)', runbooksDir)
      .option('--port <port>', 'Rebound port on 127.0.0.1 (default: a free one)', (v) => {
        const port = Number(v);
        if (!Number.isInteger(port) || port < 1 || port > 65_535)
          throw new InvalidArgumentError('expected a port from 1 to 65535');
        return port;
      })
      .option('--keep', 'keep the working directory (configs, logs, data) after stopping')
      // Hidden: lets tests point the search past PATH away from the installed binaries; users set PATH.
      .addOption(
        new Option(
          '--install-dirs <dirs>',
          `directories searched after PATH for the binaries, colon-separated (default ${INSTALL_DIRS.join(':')})`,
        )
          .argParser((v) => v.split(':').filter(Boolean))
          .hideHelp(),
      )
      .addHelpText(
        'after',
        '\nNeeds Prometheus 2.x and Alertmanager 0.25: apt-get install prometheus prometheus-alertmanager\n' +
          'Scenarios: error-rate (ERROR_RATE=0.3), latency (a flash sale: 2 → 20 shoppers), bad-deploy (crash loop), node (NotReady).\n',
      )
      .action(
        async (options: {
          scenario: ScenarioName;
          once?: boolean;
          runbooks?: string;
          port?: number;
          keep?: boolean;
          installDirs?: string[];
        }) => {
          const abort = new AbortController();
          const onSignal = () => abort.abort();
          process.once('SIGINT', onSignal);
          process.once('SIGTERM', onSignal);
          try {
            // Loaded when run: the other commands start without the demo's whole stack.
            const { runDemo } = await import('../../demo/run.ts');
            process.exitCode = await runDemo({
              scenario: options.scenario,
              once: options.once === true,
              ...(options.runbooks ? { runbooksDir: options.runbooks } : {}),
              ...(options.port ? { port: options.port } : {}),
              keep: options.keep === true,
              searchPath,
              ...(options.installDirs ? { installDirs: options.installDirs } : {}),
              write: (line) => process.stdout.write(line + '\n'),
              writeError: (line) => process.stderr.write(line + '\n'),
              signal: abort.signal,
            });
          } finally {
            process.off('SIGINT', onSignal);
            process.off('SIGTERM', onSignal);
          }
        },
      )
  );
}

/** Checked before anything starts: a wrong path is a usage error naming the option the user wrote. */
function runbooksDir(value: string): string {
  const dir = resolve(value);
  const stat = statSync(dir, { throwIfNoEntry: false });
  if (stat === undefined)
    throw new InvalidArgumentError(`${dir} does not exist; give a directory of *.asl.json runbooks`);
  if (!stat.isDirectory())
    throw new InvalidArgumentError(`${dir} is not a directory; give a directory of *.asl.json runbooks`);
  return dir;
}
