/**
 * Entry point: `npx tsx services/checkout/src/main.ts`. Configured only by environment (see
 * docs/monitoring.md), so a pod, a local replica started by the Kubernetes stand-in, or a person can run it.
 * Prints one `listening <url>` line on stdout once serving, so supervisors know the chosen port.
 */
import { ConfigError, parseCheckoutEnv } from './config.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = parseCheckoutEnv(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(err.message + '\n');
    process.exit(2);
  }
  // Loaded only once the configuration is valid: a pod with a bad setting exits at once and cheaply, without
  // first loading the HTTP stack (a crash-looping pod should not starve its healthy neighbours of CPU).
  const { createCheckoutServer } = await import('./server.ts');
  const server = createCheckoutServer(config);
  const url = await server.start();
  process.stdout.write(`listening ${url}\n`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, 'shutting down');
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`checkout failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
