import { rename, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { ProcessKubelet, type KubeletEvent, type KubeletOptions, type PodEndpoint } from './kubelet.ts';
import { KubeApiDouble } from './server.ts';
import { kubeStateMetrics } from './state-metrics.ts';

/**
 * A local Kubernetes stand-in: the API double with an external pod lifecycle, a kubelet that runs pods as
 * processes, kube-state-metrics on the API server's `/metrics`, and a Prometheus `file_sd` targets file
 * listing every running pod. `rebound demo` and the end-to-end tests both run on it.
 */

export interface SimClusterOptions {
  readonly runtime: KubeletOptions['runtime'];
  /** Where pods' logs go (one file per pod). */
  readonly logDir?: string;
  /** The `file_sd` file Prometheus reads; rewritten (atomically) whenever a pod process starts or stops. */
  readonly targetsFile?: string;
  /** Only pods of these Deployments are listed in the targets file (default: all). */
  readonly scrapeDeployments?: readonly string[];
  readonly kubelet?: Pick<
    KubeletOptions,
    'probeIntervalMs' | 'backoffMs' | 'preStopMs' | 'gracePeriodMs' | 'readinessGate'
  >;
  /** API server port on 127.0.0.1; 0 picks a free one. */
  readonly port?: number;
  readonly onEvent?: (event: KubeletEvent) => void;
}

export class SimCluster {
  readonly api: KubeApiDouble;
  readonly kubelet: ProcessKubelet;
  private lastTargets = '';
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly options: SimClusterOptions) {
    this.api = new KubeApiDouble({
      podLifecycle: 'external',
      metrics: () => kubeStateMetrics(this.api, this.kubelet),
      ...(options.port === undefined ? {} : { port: options.port }),
    });
    this.kubelet = new ProcessKubelet({
      api: this.api,
      runtime: options.runtime,
      allocatePort: freeLoopbackPort,
      ...(options.logDir ? { logDir: options.logDir } : {}),
      ...options.kubelet,
      onEvent: (event) => {
        this.writeTargets();
        options.onEvent?.(event);
      },
    });
  }

  get url(): string {
    return this.api.url;
  }

  async start(): Promise<string> {
    const url = await this.api.start();
    this.kubelet.start();
    this.writeTargets();
    await this.writing;
    return url;
  }

  async stop(): Promise<void> {
    await this.kubelet.stop();
    await this.api.stop();
    await this.writing;
  }

  /** Ready, non-terminating pods of a Deployment: what a Service would send traffic to. */
  endpoints(namespace: string, deployment: string): PodEndpoint[] {
    return this.kubelet
      .endpoints()
      .filter((e) => e.namespace === namespace && e.deployment === deployment && e.ready);
  }

  /** Resolves once the targets file on disk matches the running pods. */
  async targetsWritten(): Promise<void> {
    await this.writing;
  }

  private writeTargets(): void {
    const file = this.options.targetsFile;
    if (!file) return;
    const wanted = this.options.scrapeDeployments;
    const groups = this.kubelet
      .scrapeTargets()
      .filter((e) => !wanted || (e.deployment !== undefined && wanted.includes(e.deployment)))
      .sort((a, b) => (a.pod < b.pod ? -1 : 1))
      .map((e) => ({
        targets: [new URL(e.url).host],
        labels: {
          namespace: e.namespace,
          ...(e.deployment ? { deployment: e.deployment } : {}),
          pod: e.pod,
          ...(e.node ? { node: e.node } : {}),
        },
      }));
    const text = JSON.stringify(groups, null, 2) + '\n';
    if (text === this.lastTargets) return;
    this.lastTargets = text;
    // Write then rename, so Prometheus never reads half a file; writes are chained to keep their order.
    this.writing = this.writing.then(async () => {
      if (text !== this.lastTargets) return; // a newer list is queued
      await writeFile(`${file}.tmp`, text);
      await rename(`${file}.tmp`, file);
    });
  }
}

/** A free port on 127.0.0.1 (bound, then released). */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
