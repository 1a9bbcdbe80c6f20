import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { readKubeEnvironment } from '../../config/cli-env.ts';
import type { Config } from '../../config/schema.ts';
import { ReboundError } from '../../errors.ts';
import { listenAddress } from '../../http/config.ts';
import { isLoopbackHost, splitListen } from '../../http/auth.ts';

interface ServeOptions {
  config?: string;
  listen?: string;
  dataDir?: string;
}

/** `rebound serve`: runs the server until SIGINT/SIGTERM, then stops cleanly. */
export function serveCommand(): Command {
  return new Command('serve')
    .description('run Rebound: receive Alertmanager webhooks, open incidents, serve the API')
    .option('-c, --config <file>', 'configuration file (default: ./rebound.yaml when present)')
    .option(
      '--listen <host:port>',
      'address to listen on (overrides server.listen; default 127.0.0.1:8080)',
      parseListen,
    )
    .option('--data-dir <dir>', 'where the database lives (overrides dataDir; default ./.rebound)')
    .addHelpText(
      'after',
      '\nWith no configuration file it serves on 127.0.0.1:8080 with data in ./.rebound/.',
    )
    .action(async (options: ServeOptions) => {
      // Loaded here, not at the top: every other command starts without the whole server.
      const [{ createApp }, { loadConfig }] = await Promise.all([
        import('../../app.ts'),
        import('../../config/load.ts'),
      ]);
      const { config, source } = await loadConfig(options.config ? { path: options.config } : {});
      const reloadConfig = async () =>
        applyOverrides((await loadConfig(options.config ? { path: options.config } : {})).config, options);
      const effective = applyOverrides(config, options);
      const origin = options.dataDir ? '' : source ? ` (dataDir in ${source})` : ' (the default dataDir)';
      checkDataDir(
        effective.dataDir,
        options.dataDir ? `--data-dir ${options.dataDir}` : `${effective.dataDir}${origin}`,
      );
      const app = createApp({
        config: effective,
        reloadConfig,
        kubeEnvironment: readKubeEnvironment(),
      });
      let stopping = false;
      const shutdown = (signal: string) => {
        if (stopping) return;
        stopping = true;
        app.logger.info({ signal }, 'stopping');
        void app.stop().then(() => process.exit(0));
      };
      process.on('SIGINT', () => shutdown('SIGINT'));
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      process.on('SIGHUP', () => {
        app.reload().then(
          ({ rules, restartNeeded }) => {
            app.logger.info({ rules }, 'configuration reloaded on SIGHUP');
            if (restartNeeded.length > 0)
              app.logger.warn(
                { restartNeeded },
                `changed but read only at start, so not applied until a restart: ${restartNeeded.join(', ')}`,
              );
          },
          (err: Error) =>
            app.logger.error({ err: err.message }, 'reload failed; the previous rules stay in force'),
        );
      });
      let url: string;
      try {
        ({ url } = await app.start());
      } catch (err) {
        // What started before the failure (the engine, the bus, timers) stops too: a server that cannot
        // listen must not keep working on the database in the background, nor keep the process alive.
        await app.stop().catch(() => undefined);
        throw err;
      }
      // Fastify names one local address; say where it really listens, and that beyond loopback tokens are needed.
      const { host } = splitListen(app.config.server.listen);
      const { port } = app.http.server.address() as { port: number };
      const bound = `${host.includes(':') ? `[${host}]` : host}:${port}`;
      app.logger.info(
        { config: source ?? '(built-in defaults)', url },
        isLoopbackHost(host)
          ? `listening on ${bound}`
          : `listening on ${bound} (beyond loopback: webhooks and the API need their tokens)`,
      );
    });
}

function parseListen(value: string): string {
  const parsed = listenAddress.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError(parsed.error.issues[0]!.message);
  return parsed.data;
}

/**
 * Refuses a data directory that a file stands in the way of, naming it as `named` (with the flag or the
 * configuration that set it): creating it failed with a bare `EEXIST` (the path is a file) or `ENOTDIR` (a file
 * above it). A configuration error (exit 1), as a missing configuration file is.
 */
function checkDataDir(dir: string, named: string): void {
  const full = resolve(dir);
  // The nearest part of the path that exists must be a directory; what does not exist yet is created.
  for (let at = full; ; at = dirname(at)) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(at).isDirectory();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code === 'ENOENT' || code === 'ENOTDIR') && dirname(at) !== at) continue;
      return; // anything else (no permission) is for opening it to report
    }
    if (isDirectory) return;
    throw new ReboundError(
      'INVALID_CONFIG',
      at === full
        ? `${named} is a file, not a directory`
        : `${named} cannot be created: ${at} is a file, not a directory`,
    );
  }
}

function applyOverrides(config: Config, options: ServeOptions): Config {
  return {
    ...config,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    server: { ...config.server, ...(options.listen ? { listen: options.listen } : {}) },
  };
}
