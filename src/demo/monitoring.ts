import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from './checkout-runtime.ts';

/**
 * Real Prometheus and Alertmanager for the demo, started from the shipped fast-demo assets
 * (deploy/prometheus/demo, deploy/alertmanager/demo) copied into the demo's directory with the loopback
 * addresses rewritten. Several Alertmanagers form a gossip cluster on loopback (an HA pair).
 */

export const INSTALL_HINT = 'apt-get install prometheus prometheus-alertmanager';

/** Searched after PATH (which may lack them, under sudo or cron): upstream tarballs, then Debian packages. */
export const INSTALL_DIRS: readonly string[] = ['/usr/local/bin', '/usr/bin'];

const NAMES = {
  prometheus: ['prometheus'],
  alertmanager: ['prometheus-alertmanager', 'alertmanager'], // Debian's name, then upstream's
};

export interface Binaries {
  readonly prometheus: string;
  readonly alertmanager: string;
}

/** Where to look for the binaries: the `PATH` value first, then fixed directories. */
export interface BinarySearch {
  /** A `PATH` value (colon-separated; empty entries and relative ones resolve against the working directory). */
  readonly path: string;
  readonly installDirs?: readonly string[];
}

/** The binaries as absolute paths, or undefined when one is missing (the caller prints INSTALL_HINT). */
export function findBinaries(search: BinarySearch): Binaries | undefined {
  const onPath = search.path === '' ? [] : search.path.split(':').map((d) => d || '.');
  const dirs = [...onPath, ...(search.installDirs ?? INSTALL_DIRS)];
  // PATH order wins over the name order: a user's own `alertmanager` on PATH beats the Debian package.
  const find = (names: readonly string[]) =>
    dirs.flatMap((d) => names.map((n) => resolve(d, n))).find(isExecutableFile);
  const prometheus = find(NAMES.prometheus);
  const alertmanager = find(NAMES.alertmanager);
  return prometheus && alertmanager ? { prometheus, alertmanager } : undefined;
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export interface Daemon {
  readonly name: string;
  readonly url: string;
  stop(): Promise<void>;
}

export interface PrometheusSetup {
  readonly bin: string;
  readonly dir: string;
  readonly port: number;
}

export interface PrometheusTargets {
  readonly dir: string;
  /** `host:port` of each Alertmanager. */
  readonly alertmanagers: readonly string[];
  /** `host:port` of the Kubernetes stand-in (kube-state-metrics on /metrics). */
  readonly kubeStateMetrics: string;
  /** `host:port` of Rebound (its /metrics). */
  readonly rebound: string;
}

/** Copies the demo Prometheus config into `dir/prometheus`; returns the file_sd targets file to keep current. */
export async function preparePrometheus(setup: PrometheusTargets): Promise<string> {
  const target = join(setup.dir, 'prometheus');
  await cp(join(REPO_ROOT, 'deploy', 'prometheus', 'demo'), target, { recursive: true });
  const configPath = join(target, 'prometheus.yml');
  const config = parse(await readFile(configPath, 'utf8')) as PrometheusConfig;
  config.alerting.alertmanagers[0]!.static_configs[0]!.targets = [...setup.alertmanagers];
  for (const job of config.scrape_configs) {
    if (job.job_name === 'kube-state-metrics') job.static_configs![0]!.targets = [setup.kubeStateMetrics];
    if (job.job_name === 'rebound') job.static_configs![0]!.targets = [setup.rebound];
  }
  await writeFile(configPath, stringify(config));
  const targets = join(target, 'targets', 'checkout.json');
  await writeFile(targets, '[]\n'); // the stand-in writes the running pods here
  return targets;
}

interface PrometheusConfig {
  alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
  scrape_configs: { job_name: string; static_configs?: { targets: string[] }[] }[];
}

export async function startPrometheus(setup: PrometheusSetup): Promise<Daemon> {
  const url = `http://127.0.0.1:${setup.port}`;
  const child = spawn(
    setup.bin,
    [
      `--config.file=${join(setup.dir, 'prometheus', 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(setup.dir, 'prometheus', 'data')}`,
      `--web.listen-address=127.0.0.1:${setup.port}`,
      `--web.external-url=${url}`,
      '--web.enable-lifecycle',
      '--rules.alert.resend-delay=1s',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return await ready('prometheus', child, url, join(setup.dir, 'prometheus.log'));
}

export interface AlertmanagerSetup {
  readonly bin: string;
  readonly dir: string;
  /** Web port of each instance; with more than one they gossip on `clusterPorts`. */
  readonly ports: readonly number[];
  readonly clusterPorts: readonly number[];
  /** Rebound's webhook URL and the bearer token Alertmanager presents. */
  readonly webhookUrl: string;
  readonly token: string;
}

/** Starts one Alertmanager per port from deploy/alertmanager/demo/alertmanager.yml. */
export async function startAlertmanagers(setup: AlertmanagerSetup): Promise<Daemon[]> {
  const config = parse(
    await readFile(join(REPO_ROOT, 'deploy', 'alertmanager', 'demo', 'alertmanager.yml'), 'utf8'),
  ) as {
    receivers: {
      webhook_configs: { url: string; http_config: { authorization: { credentials: string } } }[];
    }[];
  };
  const hook = config.receivers[0]!.webhook_configs[0]!;
  hook.url = setup.webhookUrl;
  hook.http_config.authorization.credentials = setup.token;
  const configPath = join(setup.dir, 'alertmanager.yml');
  await writeFile(configPath, stringify(config));
  const clustered = setup.ports.length > 1;
  return await Promise.all(
    setup.ports.map(async (port, i) => {
      const dataDir = join(setup.dir, `alertmanager-${i}`);
      await mkdir(dataDir, { recursive: true });
      const url = `http://127.0.0.1:${port}`;
      const cluster = clustered
        ? [
            `--cluster.listen-address=127.0.0.1:${setup.clusterPorts[i]}`,
            `--cluster.advertise-address=127.0.0.1:${setup.clusterPorts[i]}`,
            ...setup.clusterPorts.filter((_, j) => j !== i).map((p) => `--cluster.peer=127.0.0.1:${p}`),
            // Loopback peers need no settling. A peer timeout of zero makes every instance notify at once,
            // before the gossiped notification log could stop it: the duplicates an HA pair sends whenever
            // gossip lags, which Rebound must absorb.
            '--cluster.settle-timeout=1s',
            '--cluster.peer-timeout=0s',
            '--cluster.gossip-interval=100ms',
            '--cluster.pushpull-interval=1s',
          ]
        : ['--cluster.listen-address='];
      const child = spawn(
        setup.bin,
        [
          `--config.file=${configPath}`,
          `--storage.path=${dataDir}`,
          `--web.listen-address=127.0.0.1:${port}`,
          `--web.external-url=${url}`,
          ...cluster,
        ],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      return await ready(`alertmanager-${i}`, child, url, join(setup.dir, `alertmanager-${i}.log`));
    }),
  );
}

/** Waits for `/-/ready`; keeps stderr in a log file (and the last lines for the error message). */
async function ready(name: string, child: ChildProcess, url: string, logFile: string): Promise<Daemon> {
  let tail = '';
  const log: Buffer[] = [];
  child.stderr?.on('data', (chunk: Buffer) => {
    log.push(chunk);
    tail = (tail + chunk.toString()).slice(-2000);
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(force);
    }
    await writeFile(logFile, Buffer.concat(log)).catch(() => undefined);
  };
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(`${url}/-/ready`);
      await res.body?.cancel();
      if (res.ok) return { name, url, stop };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await stop();
  throw new Error(`${name} at ${url} did not become ready:\n${tail}`);
}
