import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { createApp, type App } from '../app.ts';
import { parseConfig } from '../config/load.ts';
import type { ConfigInput } from '../config/schema.ts';
import {
  freeLoopbackPort,
  SimCluster,
  writeKubeconfig,
  type KubeletEvent,
  type PodEndpoint,
  type RecordedRequest,
} from '../kube-sim/index.ts';
import { checkoutRuntime, prepareCheckout } from './checkout-runtime.ts';
import { demoConfig } from './config.ts';
import {
  preparePrometheus,
  startAlertmanagers,
  startPrometheus,
  type Binaries,
  type Daemon,
} from './monitoring.ts';
import type { FaultContext } from './scenarios.ts';
import { seedShop, SHOP } from './shop.ts';
import { Traffic } from './traffic.ts';

/**
 * Everything the demo runs, on loopback in one directory: the Kubernetes stand-in with the checkout pods as
 * processes, real Prometheus and Alertmanager (one, or an HA pair gossiping on loopback), Rebound itself
 * (the composition root, in this process) with the runbooks directory given, and a traffic generator.
 * Started in dependency order and stopped in reverse; `stop()` leaves no process behind.
 */

export interface DemoStackOptions {
  readonly dir: string;
  readonly runbooksDir: string;
  readonly binaries: Binaries;
  /** 2 runs an Alertmanager HA pair; both post every notification to Rebound. */
  readonly alertmanagers?: number;
  readonly pagerdutyUrl?: string;
  readonly configOverrides?: Partial<ConfigInput>;
  readonly reboundPort?: number;
  /** Progress lines while starting ("starting Prometheus ..."). */
  readonly onProgress?: (line: string) => void;
  readonly onKubeletEvent?: (event: KubeletEvent) => void;
  /** Every request to the stand-in's API that is not a GET (Rebound's writes, dry runs included). */
  readonly onWrite?: (request: RecordedRequest) => void;
}

export const WEBHOOK_TOKEN = 'rebound-demo-webhook-token';

export class DemoStack {
  private cluster: SimCluster | undefined;
  app: App | undefined;
  prometheus: Daemon | undefined;
  alertmanagers: Daemon[] = [];
  readonly traffic: Traffic;
  reboundUrl = '';
  /** What the last injected fault touched (the node scenario records its node here). */
  fault: FaultContext = {};
  private readonly ports: Promise<{
    rebound: number;
    sim: number;
    prometheus: number;
    alertmanagers: number[];
    gossip: number[];
  }>;
  private stopped = false;
  private starting: Promise<void> | undefined;
  private readonly writeTimes = new WeakMap<RecordedRequest, number>();

  constructor(private readonly options: DemoStackOptions) {
    const count = options.alertmanagers ?? 1;
    this.ports = (async () => {
      const take = async (n: number) => {
        const out: number[] = [];
        for (let i = 0; i < n; i++) out.push(await freeLoopbackPort());
        return out;
      };
      const [rebound, sim, prometheus] = await take(3);
      return {
        rebound: options.reboundPort ?? rebound!,
        sim: sim!,
        prometheus: prometheus!,
        alertmanagers: await take(count),
        gossip: await take(count),
      };
    })();
    this.traffic = new Traffic(() => this.checkoutPods());
  }

  /** The Kubernetes stand-in (exists once start() has begun). */
  get sim(): SimCluster {
    if (!this.cluster) throw new Error('the demo stack has not been started');
    return this.cluster;
  }

  /** Ready checkout pods (the Service's endpoints). */
  checkoutPods(): PodEndpoint[] {
    return this.sim.endpoints(SHOP.namespace, SHOP.deployment);
  }

  /** A node that runs a ready checkout pod (the node scenario takes it down). */
  nodeWithCheckoutPod(): string {
    const node = this.checkoutPods().find((p) => p.node)?.node;
    if (!node) throw new Error('no checkout pod is running on a node');
    return node;
  }

  /** Writes Rebound made to the stand-in since `since` (an index into its request log). */
  writesSince(since: number): RecordedRequest[] {
    return this.sim.api.requests.slice(since).filter((r) => r.method !== 'GET');
  }

  /** When the stand-in received a write (epoch ms). */
  receivedAt(request: RecordedRequest): number | undefined {
    return this.writeTimes.get(request);
  }

  /** Starts everything in dependency order; a stop() meanwhile makes it give up between steps. */
  async start(): Promise<void> {
    this.starting = this.startAll();
    await this.starting;
  }

  private async startAll(): Promise<void> {
    const { dir } = this.options;
    const progress = this.options.onProgress ?? (() => undefined);
    const { binaries } = this.options;
    await mkdir(dir, { recursive: true });
    const ports = await this.ports;
    const host = (port: number) => `127.0.0.1:${port}`;

    progress('bundling the checkout service');
    const nodeArgs = await prepareCheckout(dir);
    const targets = await preparePrometheus({
      dir,
      alertmanagers: ports.alertmanagers.map(host),
      kubeStateMetrics: host(ports.sim),
      rebound: host(ports.rebound),
    });
    const sim = new SimCluster({
      runtime: checkoutRuntime(nodeArgs, process.execPath),
      logDir: dir,
      targetsFile: targets,
      scrapeDeployments: [SHOP.deployment],
      port: ports.sim,
      // A crash-looping pod restarts after 2 s, then 4 s, 8 s: each start of the bundle costs CPU the
      // serving pods need (a tighter loop slows them enough to fire the latency alert on a small machine).
      kubelet: {
        backoffMs: { initial: 2000, max: 8000 },
        // A new pod takes traffic only once Prometheus scrapes it. Prometheus applies discovered targets
        // every 5 s; without the gate a fast-starting pod could take over from the pods it replaces before
        // it is scraped, and an error ratio with no data would look like a resolved alert.
        readinessGate: async ({ pod }) =>
          this.prometheus === undefined || (await this.query(`max(up{job="checkout", pod="${pod}"})`)) === 1,
      },
      ...(this.options.onKubeletEvent ? { onEvent: this.options.onKubeletEvent } : {}),
    });
    this.cluster = sim;
    sim.api.onRequest((r) => {
      if (r.method === 'GET') return;
      this.writeTimes.set(r, Date.now());
      this.options.onWrite?.(r);
    });

    this.check();
    progress('starting the Kubernetes stand-in with the checkout Deployment (2 pods as processes)');
    await sim.start();
    seedShop(sim.api);
    await this.until('two checkout pods ready', () => this.checkoutPods().length >= 2, 60_000);

    this.check();
    progress('starting Rebound');
    const kubeconfig = await writeKubeconfig(dir, sim.url, 'demo');
    const config = demoConfig({
      dir,
      port: ports.rebound,
      kubeconfig,
      runbooksDir: this.options.runbooksDir,
      prometheusUrl: `http://${host(ports.prometheus)}`,
      alertmanagerUrl: `http://${host(ports.alertmanagers[0]!)}`,
      webhookToken: WEBHOOK_TOKEN,
      ...(this.options.pagerdutyUrl ? { pagerdutyUrl: this.options.pagerdutyUrl } : {}),
      ...(this.options.configOverrides ? { overrides: this.options.configOverrides } : {}),
    });
    // Written out for people to read (with --keep); the app gets the same object.
    await writeFile(join(dir, 'rebound.yaml'), stringify(config));
    this.app = createApp({
      config: parseConfig(config),
      logDestination: createWriteStream(join(dir, 'rebound.log')),
    });
    this.reboundUrl = (await this.app.start()).url;
    this.check();
    this.traffic.start();

    progress('starting Prometheus (scrape and evaluate every second)');
    this.prometheus = await startPrometheus({
      bin: binaries.prometheus,
      dir,
      port: ports.prometheus,
    });
    this.check();
    // Alerts that fire before the first scrapes (nothing discovered yet) must never reach Rebound: start
    // Alertmanager only once every checkout pod is scraped and nothing fires.
    await this.until(
      'Prometheus to scrape the checkout pods',
      async () =>
        (await this.query('count(up{job="checkout"} == 1)')) >= 2 &&
        (await this.query('count(up{job="kube-state-metrics"} == 1)')) >= 1 &&
        (await this.query('count(ALERTS{alertstate="firing"}) or vector(0)')) === 0,
      90_000,
    );
    this.check();
    const count = ports.alertmanagers.length;
    progress(count > 1 ? `starting ${count} Alertmanagers (an HA cluster)` : 'starting Alertmanager');
    this.alertmanagers = await startAlertmanagers({
      bin: binaries.alertmanager,
      dir,
      ports: ports.alertmanagers,
      clusterPorts: ports.gossip,
      webhookUrl: `${this.reboundUrl}/v1/webhooks/alertmanager`,
      token: WEBHOOK_TOKEN,
    });
  }

  /**
   * Waits until the shop is healthy: two ready pods, nothing firing, every incident closed, no runbook
   * running, and the checkout p95 back to normal (the last slow requests of a surge age out of the 5 s window
   * and cannot fire a late alert into the next loop).
   */
  async waitHealthy(timeoutMs = 120_000): Promise<void> {
    const app = this.app!;
    await this.until(
      'the shop to be healthy again',
      async () =>
        this.checkoutPods().length >= 2 &&
        (await this.query('count(ALERTS{alertstate="firing"}) or vector(0)')) === 0 &&
        (await this.query(
          'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="checkout", route="/checkout"}[5s])))',
        )) < 0.4 &&
        (await app.incidents.list({ limit: 20 })).items.every(
          (i) => i.status === 'resolved' || i.status === 'escalated',
        ) &&
        (await app.engine.list({ limit: 20, status: 'RUNNING' })).items.length === 0,
      timeoutMs,
    );
  }

  /** The value of a PromQL expression returning one sample (NaN when empty). */
  async query(expr: string): Promise<number> {
    if (!this.prometheus) return NaN;
    try {
      const res = await fetch(`${this.prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.json()) as { data?: { result?: { value: [number, string] }[] } };
      const first = body.data?.result?.[0];
      return first ? Number(first.value[1]) : NaN;
    } catch {
      return NaN;
    }
  }

  /** Polls until `probe` holds, or fails naming what it waited for. */
  async until(what: string, probe: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await probe())) {
      if (this.stopped) throw new Error(`stopped while waiting for ${what}`);
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
      await sleep(100);
    }
  }

  private check(): void {
    if (this.stopped) throw new Error('the demo was stopped while starting');
  }

  /** Stops everything in reverse order of start (after a start in progress gives up); safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.starting?.catch(() => undefined);
    this.traffic.stop();
    await Promise.allSettled(this.alertmanagers.map((am) => am.stop()));
    await this.prometheus?.stop();
    await this.app?.stop();
    await this.cluster?.stop();
  }
}
