import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Real Prometheus and Alertmanager (Debian's `prometheus`, `prometheus-alertmanager`) on loopback, with the
 * fast timings from TOOLING.md: 1 s scrape and evaluation, `for: 0s`, `group_wait: 0s`, `group_interval: 1s`.
 */

export const PROMETHEUS_BIN = '/usr/bin/prometheus';
export const ALERTMANAGER_BIN = '/usr/bin/prometheus-alertmanager';

/**
 * Why the real binaries cannot run here, or undefined when they can. Tests skip (saying why) on a laptop
 * without them; under CI=true a missing binary is a failure, never a skip.
 */
export function monitoringUnavailable(): string | undefined {
  for (const bin of [PROMETHEUS_BIN, ALERTMANAGER_BIN]) {
    if (spawnSync(bin, ['--version'], { stdio: 'ignore' }).status !== 0) {
      const reason = `${bin} is not installed: apt-get install -y --no-install-recommends prometheus prometheus-alertmanager`;
      if (process.env['CI'] === 'true') throw new Error(reason);
      console.warn(`skipping real Prometheus/Alertmanager tests: ${reason}`);
      return reason;
    }
  }
  return undefined;
}

export interface RunningServer {
  readonly url: string;
  stop(): Promise<void>;
}

export interface AlertmanagerOptions {
  /** Where Alertmanager posts its webhook (payload v4), e.g. a test receiver's URL. */
  readonly webhookUrl?: string;
}

export async function startAlertmanager(options: AlertmanagerOptions = {}): Promise<RunningServer> {
  const dir = await mkdtemp(join(tmpdir(), 'rebound-am-'));
  const receiver = options.webhookUrl
    ? `  - name: rebound\n    webhook_configs:\n      - url: '${options.webhookUrl}'\n        send_resolved: true\n`
    : `  - name: rebound\n`;
  const config =
    `route:\n  receiver: rebound\n  group_by: ['alertname']\n  group_wait: 0s\n  group_interval: 1s\n  repeat_interval: 1h\n` +
    `receivers:\n${receiver}`;
  await writeFile(join(dir, 'alertmanager.yml'), config);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    ALERTMANAGER_BIN,
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=${url}`,
      '--cluster.listen-address=',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return await running(child, url, dir);
}

export interface PrometheusOptions {
  /** `host:port` of scrape targets. */
  readonly targets: readonly string[];
  /** Rule file content (YAML `groups:`). */
  readonly rules: string;
  readonly alertmanagerUrl?: string;
}

export async function startPrometheus(options: PrometheusOptions): Promise<RunningServer> {
  const dir = await mkdtemp(join(tmpdir(), 'rebound-prom-'));
  await writeFile(join(dir, 'rules.yml'), options.rules);
  const alerting = options.alertmanagerUrl
    ? `alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['${new URL(options.alertmanagerUrl).host}']\n`
    : '';
  const targets = options.targets.map((t) => `'${t}'`).join(', ');
  const config =
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: ['${join(dir, 'rules.yml')}']\n${alerting}` +
    `scrape_configs:\n  - job_name: test\n    static_configs:\n      - targets: [${targets}]\n`;
  await writeFile(join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    PROMETHEUS_BIN,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      `--web.external-url=${url}`,
      '--rules.alert.resend-delay=1s',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return await running(child, url, dir);
}

async function running(child: ChildProcess, url: string, dir: string): Promise<RunningServer> {
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${url}/-/ready`)).ok) return { url, stop };
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  await stop();
  throw new Error(`server at ${url} did not become ready:\n${stderr}`);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
