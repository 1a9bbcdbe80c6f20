import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeletEvent } from '../kube-sim/index.ts';
import { REPO_ROOT } from './checkout-runtime.ts';
import { runLoop, type LoopResult, type Step } from './loop.ts';
import { findBinaries, INSTALL_DIRS, INSTALL_HINT } from './monitoring.ts';
import { SCENARIO_DEFINITIONS, type ScenarioName } from './scenarios.ts';
import { DemoStack } from './stack.ts';

/**
 * `rebound demo`: start the whole loop on loopback, inject one fault, narrate each step with timestamps,
 * print the measured MTTR. With `once` it stops after the loop (exit 0 only if the incident resolved);
 * otherwise it keeps everything running for the dashboard until the signal aborts.
 */

export interface DemoRunOptions {
  readonly scenario: ScenarioName;
  readonly once: boolean;
  readonly runbooksDir?: string;
  readonly port?: number;
  /** Keep the temporary directory (logs, configs, data) after stopping. */
  readonly keep?: boolean;
  readonly write: (line: string) => void;
  /** Where errors go (stderr), apart from the narration. */
  readonly writeError: (line: string) => void;
  /** The `PATH` value searched first for Prometheus and Alertmanager. */
  readonly searchPath: string;
  /** Searched after PATH (default INSTALL_DIRS). */
  readonly installDirs?: readonly string[];
  /** Aborted on Ctrl-C: everything stops and the directory is removed. */
  readonly signal: AbortSignal;
}

const clock = (ms: number) => new Date(ms).toISOString().slice(11, 23);
const seconds = (ms: number | undefined) => (ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);

const LABELS: Record<Step['kind'], string> = {
  fault: 'FAULT INJECTED',
  'alert.firing': 'ALERT FIRING',
  'incident.opened': 'INCIDENT OPENED',
  'runbook.started': 'RUNBOOK STARTED',
  approval: 'APPROVAL',
  remediation: 'REMEDIATION',
  timeline: 'timeline',
  rollout: 'ROLLOUT COMPLETE',
  verified: 'VERIFIED RESOLVED',
  'runbook.finished': 'RUNBOOK FINISHED',
  'incident.resolved': 'INCIDENT RESOLVED',
  'incident.escalated': 'ESCALATED',
};

/** Runs the demo; resolves with the process exit code. */
export async function runDemo(options: DemoRunOptions): Promise<number> {
  const { write } = options;
  const installDirs = options.installDirs ?? INSTALL_DIRS;
  const binaries = findBinaries({ path: options.searchPath, installDirs });
  if (!binaries) {
    options.writeError(
      'error: the demo runs real Prometheus and Alertmanager, and they are not installed ' +
        `(looked in PATH${installDirs.length > 0 ? `, then ${installDirs.join(', ')}` : ''}). Install them with:`,
    );
    options.writeError(INSTALL_HINT);
    return 1;
  }
  const scenario = SCENARIO_DEFINITIONS[options.scenario];
  const dir = await mkdtemp(join(tmpdir(), 'rebound-demo-'));
  let faultAt: number | undefined;
  const narration = new InOrder(write);
  /** One narration line: clock time, seconds since the fault, label, text. */
  const narrate = (at: number, label: string, text: string, since: number) =>
    narration.add(at, `${clock(at)}  +${seconds(at - since).padStart(7)}  ${label.padEnd(17)} ${text}`);
  const podEvent = (e: KubeletEvent) => {
    // Ctrl-C reaches the pods' processes too (one process group): their exits are the stop, not a crash.
    if (faultAt === undefined || options.signal.aborted) return;
    const text =
      e.type === 'created'
        ? `pod ${e.pod} created${e.node ? ` on ${e.node}` : ''}`
        : e.type === 'started'
          ? `pod ${e.pod} started (127.0.0.1:${e.port})${e.restarts ? `, restart ${e.restarts}` : ''}`
          : e.type === 'ready'
            ? `pod ${e.pod} ${e.ready ? 'ready' : 'not ready'}`
            : e.type === 'exited'
              ? `pod ${e.pod} exited with ${e.code ?? 'a signal'} (CrashLoopBackOff, restarts ${e.restarts})`
              : `pod ${e.pod} stopped`;
    narrate(Date.now(), 'pods', text, faultAt);
  };
  const stack = new DemoStack({
    dir,
    binaries,
    runbooksDir: options.runbooksDir ?? join(REPO_ROOT, 'runbooks'),
    ...(options.port ? { reboundPort: options.port } : {}),
    onProgress: (line) => write(`${clock(Date.now())}  ${line}`),
    onKubeletEvent: podEvent,
  });
  const stopping = new Promise<void>((resolve) => {
    if (options.signal.aborted) resolve();
    options.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  const cleanup = async () => {
    narration.stop();
    write(
      `${clock(Date.now())}  stopping: Alertmanager, Prometheus, Rebound, the checkout pods, the stand-in`,
    );
    await stack.stop();
    if (options.keep) write(`kept ${dir} (logs: rebound.log, prometheus.log, one log per pod)`);
    else await rm(dir, { recursive: true, force: true });
  };

  try {
    write(`rebound demo — scenario ${scenario.name}: ${scenario.title}`);
    write(`working directory ${dir} (everything listens on 127.0.0.1)`);
    const started = await Promise.race([stack.start().then(() => true), stopping.then(() => false)]);
    if (!started) return 130;
    write(
      `${clock(Date.now())}  ready: Rebound ${stack.reboundUrl}, Prometheus ${stack.prometheus!.url}, ` +
        `Alertmanager ${stack.alertmanagers.map((a) => a.url).join(', ')}, Kubernetes API ${stack.sim.url}`,
    );
    // A few seconds of healthy traffic first, so the error ratio has a baseline.
    await stack.until(
      'a request rate for the checkout pods',
      async () => (await stack.query('sum(rate(http_requests_total{job="checkout"}[5s]))')) > 0,
      30_000,
    );
    faultAt = Date.now();
    const result = await Promise.race([
      runLoop(stack, scenario, {
        autoApprove: true,
        onStep: (s) => {
          faultAt ??= s.at;
          narrate(s.at, LABELS[s.kind], s.text, faultAt);
        },
      }),
      stopping.then(() => undefined),
    ]);
    narration.flush();
    if (!result) return 130;
    summarise(result, write);
    write(`dashboard: ${stack.reboundUrl}/  (incidents: ${stack.reboundUrl}/v1/incidents)`);
    if (options.once) return result.outcome === 'resolved' ? 0 : 1;
    write('everything keeps running for the dashboard; press Ctrl-C to stop');
    await stopping;
    return 0;
  } finally {
    await cleanup();
  }
}

function summarise(result: LoopResult, write: (line: string) => void): void {
  write('');
  write(`outcome: ${result.outcome}`);
  write(`  fault → firing webhook        ${seconds(result.firingAfterMs)}`);
  write(`  fault → first remediation     ${seconds(result.firstRemediationAfterMs)}`);
  write(`  fault → incident resolved     ${seconds(result.resolvedAfterMs)}   (MTTR)`);
  if (result.writeProblems.length > 0)
    write(`  Kubernetes writes differ from the scenario's expectation: ${result.writeProblems.join('; ')}`);
}

/**
 * Narration from two sources (the loop's steps, found a poll at a time, and the pods' events, told as they
 * happen) printed in the order things happened: each line is held `holdMs` — longer than one poll — and lines
 * print by time. A line found later than that prints late rather than never.
 */
class InOrder {
  private held: { at: number; line: string }[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly write: (line: string) => void,
    private readonly holdMs = 300,
  ) {
    this.timer = setInterval(() => this.print(Date.now() - this.holdMs), 50);
    this.timer.unref();
  }

  add(at: number, line: string): void {
    this.held.push({ at, line });
  }

  /** Prints everything held. */
  flush(): void {
    this.print(Infinity);
  }

  stop(): void {
    clearInterval(this.timer);
    this.flush();
  }

  private print(upTo: number): void {
    // Stable: lines with the same time keep the order they were added in.
    this.held.sort((a, b) => a.at - b.at);
    const due = this.held.findIndex((h) => h.at > upTo);
    const lines = due < 0 ? this.held.splice(0) : this.held.splice(0, due);
    for (const h of lines) this.write(h.line);
  }
}
