import { ClusterDirectory } from '../../actions/k8s/config.ts';
import { createApp, loadConfiguredRunbooks } from '../../app.ts';
import { RuleSet } from '../../bus/rules.ts';
import { readKubeEnvironment } from '../../config/cli-env.ts';
import { loadConfig } from '../../config/load.ts';
import {
  describeUnstarted,
  exposedSecrets,
  unreachedRunbooks,
  unstartedRunbooks,
} from '../../config/references.ts';
import { assertExposureIsAuthenticated } from '../../http/auth.ts';

/**
 * `rebound validate [FILE]`: what `serve` refuses before it starts (rules the bus cannot load, the defaults
 * included; exposure without authentication; a configured runbooks directory that is missing; an invalid
 * runbook), without starting anything. The runbooks are loaded as start-up loads them, each Task checked
 * against the actions this configuration gives the server: the app is built (not started) on an in-memory
 * store, so nothing on disk is touched. Runbooks the configuration names but nobody loaded are a warning, and
 * so are loaded runbooks nothing starts.
 */
export async function validateConfigFile(file?: string): Promise<void> {
  const { config, source = 'the built-in configuration (no rebound.yaml here)' } = await loadConfig(
    file === undefined ? {} : { path: file },
  );
  const rules = new RuleSet(config.bus.rules);
  assertExposureIsAuthenticated(config.server, exposedSecrets(config));
  const app = createApp({
    config: {
      ...config,
      logging: { ...config.logging, level: 'silent' },
      store: { ...config.store, sqlite: { ...config.store.sqlite, path: ':memory:' } },
    },
    kubeEnvironment: readKubeEnvironment(),
  });
  try {
    const { directory, loaded, unloaded } = await loadConfiguredRunbooks(config, app.workflows);
    for (const r of unloaded)
      process.stderr.write(`warning: ${r.path} names runbook '${r.runbook}', which ${directory} lacks\n`);
    for (const r of unstartedRunbooks(config, rules))
      process.stderr.write(`warning: ${describeUnstarted(r)}\n`);
    for (const name of unreachedRunbooks(
      config,
      (loaded ?? []).map((w) => w.name),
    ))
      process.stderr.write(
        `warning: runbook '${name}' is loaded, but no incidents.runbooks.routes entry or bus rule starts it, ` +
          `so it runs only when started by hand (routes, when given, replace the shipped ones)\n`,
      );
    // A warning, not an error: the file may be mounted where Rebound runs, not where it is validated.
    for (const p of new ClusterDirectory(config.kubernetes, readKubeEnvironment()).credentialProblems())
      process.stderr.write(`warning: kubernetes.clusters.${p.cluster}: ${p.message}\n`);
    process.stdout.write(
      loaded === undefined
        ? `${source} is valid (no runbooks: ${directory} does not exist)\n`
        : `${source} is valid, with ${loaded.length} runbook(s) from ${directory}\n`,
    );
  } finally {
    await app.stop();
  }
}
