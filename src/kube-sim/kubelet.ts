import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { isReady, ownerUid } from './controller.ts';
import type { Json } from './patch.ts';
import type { KubeApiDouble } from './server.ts';
import type { K8sObject } from './store.ts';

/**
 * The stand-in's kubelet: every bound pod whose container has a local runtime runs as a real process on its
 * own loopback port. It reports what a kubelet reports (phase, Ready from the readiness probe, restart count,
 * CrashLoopBackOff while backing off), restarts containers that exit, keeps a deleted pod's process running
 * through a preStop delay (so Prometheus, which applies discovered targets only every 5 s, keeps scraping it
 * until its replacement is discovered), then SIGTERMs it. A node marked NotReady freezes its pods (SIGSTOP)
 * and, like a dead kubelet, stops posting their status; they leave the endpoints (no traffic) at once.
 */

/** How one container runs here: a command with its environment (the kubelet adds PORT, POD_NAME, ...). */
export interface ContainerCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

export interface ContainerSpec {
  readonly name: string;
  readonly image: string;
  readonly env: Readonly<Record<string, string>>;
}

export interface KubeletOptions {
  readonly api: KubeApiDouble;
  /** The command for a container, or undefined when it has no local runtime (the pod is Ready at once). */
  readonly runtime: (container: ContainerSpec, pod: K8sObject) => ContainerCommand | undefined;
  /** Ports for pods, one per running container; the default asks the OS for a free one. */
  readonly allocatePort: () => Promise<number>;
  /** Each container's stdout/stderr goes to `<logDir>/<pod>.log` when set. */
  readonly logDir?: string;
  readonly probeIntervalMs?: number;
  /** CrashLoopBackOff: first delay, doubled per restart up to the cap (a real kubelet: 10 s → 5 min). */
  readonly backoffMs?: { readonly initial: number; readonly max: number };
  /** A deleted pod's process keeps running this long before SIGTERM (the usual preStop sleep). */
  readonly preStopMs?: number;
  /** SIGKILL after SIGTERM when the process has not exited within this long. */
  readonly gracePeriodMs?: number;
  readonly onEvent?: (event: KubeletEvent) => void;
  /**
   * A pod readiness gate: besides its readiness probe, a pod is Ready only once this says so (checked with
   * each probe until it passes), as load-balancer controllers gate pods on target registration.
   */
  readonly readinessGate?: (pod: { namespace: string; pod: string; url: string }) => Promise<boolean>;
}

export type KubeletEvent =
  | {
      readonly type: 'created';
      readonly pod: string;
      readonly node: string | undefined;
      readonly port: number;
    }
  | { readonly type: 'started'; readonly pod: string; readonly port: number; readonly restarts: number }
  | { readonly type: 'ready'; readonly pod: string; readonly ready: boolean }
  | { readonly type: 'exited'; readonly pod: string; readonly code: number | null; readonly restarts: number }
  | { readonly type: 'stopped'; readonly pod: string };

/** A pod's process as the demo and the exporters see it. */
export interface PodEndpoint {
  readonly namespace: string;
  readonly pod: string;
  /** The owning Deployment (from the ReplicaSet's owner), or undefined for bare pods. */
  readonly deployment: string | undefined;
  readonly node: string | undefined;
  readonly url: string;
  readonly ready: boolean;
  /** The pod object is gone; the process is in its preStop delay (scraped, not sent traffic). */
  readonly terminating: boolean;
  /** The container's process id while it runs. */
  readonly pid: number | undefined;
}

interface Container {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly deployment: string | undefined;
  readonly node: string | undefined;
  readonly containerName: string;
  readonly command: ContainerCommand;
  readonly port: number;
  child: ChildProcess | undefined;
  listening: boolean;
  ready: boolean;
  restarts: number;
  lastExitCode: number | null;
  waiting: 'ContainerCreating' | 'CrashLoopBackOff' | undefined;
  startedAt: string | undefined;
  frozen: boolean;
  terminating: boolean;
  gatePassed: boolean;
  timer: NodeJS.Timeout | undefined;
  log: WriteStream | undefined;
  exited: Promise<void>;
}

type Obj = { [key: string]: Json };
const asObj = (v: Json | undefined): Obj =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {};

export class ProcessKubelet {
  private readonly containers = new Map<string, Container>();
  private readonly probeMs: number;
  private readonly backoff: { initial: number; max: number };
  private readonly preStopMs: number;
  private readonly graceMs: number;
  private syncQueued = false;
  private stopped = false;
  private probeTimer: NodeJS.Timeout | undefined;
  private readonly failedNodes = new Set<string>();

  constructor(private readonly options: KubeletOptions) {
    this.probeMs = options.probeIntervalMs ?? 250;
    this.backoff = options.backoffMs ?? { initial: 1000, max: 5000 };
    this.preStopMs = options.preStopMs ?? 6000;
    this.graceMs = options.gracePeriodMs ?? 5000;
  }

  /** Starts following the API: pods get processes, deleted pods lose theirs. */
  start(): void {
    this.options.api.onReconcile(() => this.queueSync());
    this.queueSync();
    this.probeTimer = setInterval(() => void this.probeAll(), this.probeMs);
  }

  /** Stops every process (SIGTERM, then SIGKILL after the grace period) and waits for them to exit. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.probeTimer);
    await Promise.all([...this.containers.values()].map((c) => this.kill(c, Math.min(this.graceMs, 3000))));
    this.containers.clear();
  }

  /** Every process the kubelet runs, with its pod and readiness. */
  endpoints(): PodEndpoint[] {
    return this.scrapeTargets().filter((e) => this.containers.get(`${e.namespace}/${e.pod}`)?.listening);
  }

  /**
   * Every admitted pod with its address, listening yet or not: Kubernetes service discovery lists a pod as
   * soon as it has an IP, so Prometheus (which applies discovered targets every 5 s) already scrapes it by
   * the time it turns ready and takes the traffic of the pods it replaces.
   */
  scrapeTargets(): PodEndpoint[] {
    return [...this.containers.values()].map((c) => ({
      namespace: c.namespace,
      pod: c.name,
      deployment: c.deployment,
      node: c.node,
      url: `http://127.0.0.1:${c.port}`,
      ready: c.ready && !c.terminating && !c.frozen,
      terminating: c.terminating,
      pid: c.child?.pid,
    }));
  }

  /** Restart counts and waiting reasons, by `namespace/pod`, for the kube-state-metrics exporter. */
  containerStates(): {
    namespace: string;
    pod: string;
    container: string;
    restarts: number;
    waiting: string | undefined;
  }[] {
    return [...this.containers.values()]
      .filter((c) => !c.terminating)
      .map((c) => ({
        namespace: c.namespace,
        pod: c.name,
        container: c.containerName,
        restarts: c.restarts,
        waiting: c.waiting,
      }));
  }

  /**
   * Simulates a node failure: the node reports Ready=False and its pods' processes are frozen (SIGSTOP), so
   * scrapes time out and the pods leave the endpoints. `setNodeReady(node, true)` thaws them.
   */
  setNodeReady(node: string, ready: boolean): void {
    if (ready === !this.failedNodes.has(node)) return;
    if (ready) this.failedNodes.delete(node);
    else this.failedNodes.add(node);
    for (const c of this.containers.values()) {
      if (c.node !== node || !c.child || c.child.exitCode !== null) continue;
      // A dead kubelet posts nothing: the pods' status stays as it was (stale), only the node turns NotReady.
      c.frozen = !ready;
      c.child.kill(ready ? 'SIGCONT' : 'SIGSTOP');
    }
    const stored = this.options.api.get('nodes', undefined, node);
    if (stored) this.options.api.put('nodes', { ...stored, status: nodeStatus(!this.failedNodes.has(node)) });
    this.queueSync();
  }

  private queueSync(): void {
    if (this.syncQueued || this.stopped) return;
    this.syncQueued = true;
    // Deferred: reconcile listeners run inside API writes, and a sync writes pod status itself.
    setImmediate(() => {
      this.syncQueued = false;
      void this.sync();
    });
  }

  private async sync(): Promise<void> {
    if (this.stopped) return;
    const api = this.options.api;
    for (const node of api.list('nodes')) {
      const want = nodeStatus(!this.failedNodes.has(node.metadata.name));
      const conditions = asObj(node['status'])['conditions'];
      if (JSON.stringify(conditions) !== JSON.stringify(want.conditions))
        api.put('nodes', { ...node, status: { ...asObj(node['status']), ...want } });
    }
    const pods = api.list('pods');
    const hasNodes = api.list('nodes').length > 0;
    const live = new Set<string>();
    for (const pod of pods) {
      const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
      const node = asObj(pod['spec'])['nodeName'];
      if (pod.metadata['deletionTimestamp'] !== undefined) continue;
      live.add(key);
      if (this.containers.has(key) && this.containers.get(key)!.uid === pod.metadata.uid) continue;
      if (hasNodes && typeof node !== 'string') continue; // not scheduled yet
      await this.admit(pod, key, typeof node === 'string' ? node : undefined);
    }
    for (const c of this.containers.values()) {
      if (!live.has(c.key) && !c.terminating) this.terminate(c);
    }
  }

  /** A new pod: start its container, or report it Ready at once when it has no local runtime. */
  private async admit(pod: K8sObject, key: string, node: string | undefined): Promise<void> {
    const spec = asObj(pod['spec']);
    const first = asObj(Array.isArray(spec['containers']) ? spec['containers'][0] : undefined);
    const env: Record<string, string> = {};
    for (const e of Array.isArray(first['env']) ? first['env'] : []) {
      const { name, value } = asObj(e);
      if (typeof name === 'string' && typeof value === 'string') env[name] = value;
    }
    const container: ContainerSpec = {
      name: typeof first['name'] === 'string' ? first['name'] : 'main',
      image: typeof first['image'] === 'string' ? first['image'] : '',
      env,
    };
    const command = this.options.runtime(container, pod);
    if (!command) {
      if (!isReady(pod)) this.writeStatus(pod, { phase: 'Running', ready: true });
      return;
    }
    const port = await this.options.allocatePort();
    if (this.stopped || this.containers.has(key)) return;
    const c: Container = {
      key,
      namespace: pod.metadata.namespace ?? 'default',
      name: pod.metadata.name,
      uid: pod.metadata.uid ?? '',
      deployment: this.deploymentOf(pod),
      node,
      containerName: container.name,
      command,
      port,
      child: undefined,
      listening: false,
      ready: false,
      restarts: 0,
      lastExitCode: null,
      waiting: 'ContainerCreating',
      startedAt: undefined,
      frozen: node !== undefined && this.failedNodes.has(node),
      terminating: false,
      gatePassed: this.options.readinessGate === undefined,
      timer: undefined,
      log: this.options.logDir
        ? createWriteStream(join(this.options.logDir, `${pod.metadata.name}.log`), { flags: 'a' })
        : undefined,
      exited: Promise.resolve(),
    };
    this.containers.set(key, c);
    this.options.onEvent?.({ type: 'created', pod: c.name, node, port });
    this.launch(c);
    this.report(c);
  }

  private deploymentOf(pod: K8sObject): string | undefined {
    const rsUid = ownerUid(pod);
    const rs = this.options.api
      .list('replicasets', pod.metadata.namespace)
      .find((r) => r.metadata.uid === rsUid);
    const refs = rs?.metadata['ownerReferences'];
    const owner = Array.isArray(refs) ? asObj(refs[0]) : {};
    return owner['kind'] === 'Deployment' && typeof owner['name'] === 'string' ? owner['name'] : undefined;
  }

  private launch(c: Container): void {
    const child = spawn(c.command.command, [...c.command.args], {
      cwd: c.command.cwd,
      env: {
        ...c.command.env,
        HOST: '127.0.0.1',
        PORT: String(c.port),
        POD_NAME: c.name,
        POD_NAMESPACE: c.namespace,
        KUBERNETES_API_URL: this.options.api.url,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    c.child = child;
    c.listening = false;
    c.ready = false;
    if (c.frozen) child.kill('SIGSTOP');
    c.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      c.log?.write(chunk);
      if (c.listening) return;
      buffered += chunk.toString();
      if (/^listening /m.test(buffered)) {
        c.listening = true;
        c.waiting = undefined;
        c.startedAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
        this.options.onEvent?.({ type: 'started', pod: c.name, port: c.port, restarts: c.restarts });
        void this.probe(c);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => c.log?.write(chunk));
    child.once('exit', (code) => this.exited(c, child, code));
  }

  private exited(c: Container, child: ChildProcess, code: number | null): void {
    if (c.child !== child) return;
    c.child = undefined;
    c.listening = false;
    c.ready = false;
    if (c.terminating || this.stopped) return;
    // The container died on its own: count a restart and back off before the next start, like a kubelet.
    c.restarts++;
    c.lastExitCode = code;
    c.waiting = 'CrashLoopBackOff';
    this.options.onEvent?.({ type: 'exited', pod: c.name, code, restarts: c.restarts });
    this.report(c);
    const delay = Math.min(this.backoff.max, this.backoff.initial * 2 ** Math.max(0, c.restarts - 1));
    c.timer = setTimeout(() => {
      if (!c.terminating && !this.stopped) this.launch(c);
    }, delay);
  }

  private async probeAll(): Promise<void> {
    await Promise.all([...this.containers.values()].map((c) => this.probe(c)));
  }

  /** The readiness probe: GET /readyz; a frozen process times out and counts as not ready. */
  private async probe(c: Container): Promise<void> {
    if (!c.listening || c.terminating || c.frozen) return;
    let ready = false;
    try {
      const res = await fetch(`http://127.0.0.1:${c.port}/readyz`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      ready = res.ok;
    } catch {
      ready = false;
    }
    if (ready && !c.gatePassed) {
      const url = `http://127.0.0.1:${c.port}`;
      c.gatePassed = await this.options.readinessGate!({ namespace: c.namespace, pod: c.name, url }).catch(
        () => false,
      );
      ready = c.gatePassed;
    }
    if (c.terminating || !c.listening) return;
    if (ready !== c.ready) {
      c.ready = ready;
      this.options.onEvent?.({ type: 'ready', pod: c.name, ready });
      this.report(c);
    }
  }

  /** Writes the container's state to its pod's status (and so to Deployment status via the controller). */
  private report(c: Container): void {
    const pod = this.options.api.get('pods', c.namespace, c.name);
    if (!pod || pod.metadata.uid !== c.uid) return;
    this.writeStatus(pod, {
      phase: c.listening ? 'Running' : c.restarts > 0 ? 'Running' : 'Pending',
      ready: c.ready,
      // The Ready condition appears once the container has started: a pod still being created, or one whose
      // container never got as far as listening (a crash on start), has none, as with a pending pod. Without
      // this, every rollout and crash loop would also fire the fast-demo rules' `for: 0s` PodNotReady alert.
      reportReady: c.startedAt !== undefined,
      container: c,
    });
  }

  private writeStatus(
    pod: K8sObject,
    s: { phase: string; ready: boolean; reportReady?: boolean; container?: Container },
  ): void {
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const c = s.container;
    const conditions: Json[] = [{ type: 'PodScheduled', status: 'True' }];
    if (s.reportReady ?? true) {
      conditions.push({ type: 'ContainersReady', status: s.ready ? 'True' : 'False' });
      conditions.push({ type: 'Ready', status: s.ready ? 'True' : 'False' });
    }
    const state: Json = c?.waiting
      ? { waiting: { reason: c.waiting } }
      : { running: { startedAt: c?.startedAt ?? now } };
    const status: Obj = {
      phase: s.phase,
      conditions,
      hostIP: '127.0.0.1',
      podIP: '127.0.0.1',
      startTime: asObj(pod['status'])['startTime'] ?? now,
      ...(c
        ? {
            containerStatuses: [
              {
                name: c.containerName,
                image: c.command.command,
                ready: s.ready,
                started: c.listening,
                restartCount: c.restarts,
                state,
                ...(c.lastExitCode !== null || c.restarts > 0
                  ? { lastState: { terminated: { exitCode: c.lastExitCode ?? -1, reason: 'Error' } } }
                  : {}),
              },
            ],
          }
        : {}),
    };
    this.options.api.put('pods', { ...pod, status });
  }

  /** The pod is gone from the API: keep serving scrapes through preStop, then stop the process. */
  private terminate(c: Container): void {
    c.terminating = true;
    c.ready = false;
    clearTimeout(c.timer);
    const delay = c.frozen || !c.listening ? 0 : this.preStopMs;
    c.timer = setTimeout(() => {
      void this.kill(c, this.graceMs).then(() => {
        if (this.containers.get(c.key) === c) this.containers.delete(c.key);
        this.options.onEvent?.({ type: 'stopped', pod: c.name });
      });
    }, delay);
  }

  private async kill(c: Container, graceMs: number): Promise<void> {
    clearTimeout(c.timer);
    c.terminating = true;
    const child = c.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      if (c.frozen) child.kill('SIGKILL');
      else child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await c.exited;
      clearTimeout(force);
    }
    c.log?.end();
  }
}

/** A node's status as the node lifecycle controller shows it: Ready True, or False when the kubelet is down. */
function nodeStatus(ready: boolean): Obj {
  return {
    conditions: [
      {
        type: 'Ready',
        status: ready ? 'True' : 'False',
        reason: ready ? 'KubeletReady' : 'NodeStatusUnknown',
        message: ready ? 'kubelet is posting ready status' : 'Kubelet stopped posting node status.',
      },
    ],
  };
}
