import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimCluster, type ContainerSpec, type K8sObject } from '../../src/kube-sim/index.ts';
import { eventually } from '../support/http-receiver.ts';

/**
 * The stand-in's kubelet with real processes: a tiny HTTP server per pod (started in milliseconds), so these
 * tests show rollouts, crash loops, node failures and teardown on processes, not on objects.
 */

const SERVER = `
const http = require('node:http');
if (process.env.CRASH === '1') { console.error('bad config'); process.exit(3); }
const server = http.createServer((req, res) => res.end(req.url === '/readyz' ? 'ready' : 'ok'));
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening http://127.0.0.1:' + process.env.PORT));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

let dir: string;
let sim: SimCluster;

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The process state letter from /proc (`T` = stopped by a signal). */
function procState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
}

function deployment(replicas: number, env: Record<string, string> = {}): K8sObject {
  return {
    metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: 'local/web:1',
              env: Object.entries(env).map(([name, value]) => ({ name, value })),
            },
          ],
        },
      },
    },
  };
}

const status = () => sim.api.get('deployments', 'shop', 'web')!['status'] as Record<string, number>;
const metrics = async () => (await fetch(`${sim.url}/metrics`)).text();

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rebound-kube-sim-'));
  const script = join(dir, 'server.cjs');
  writeFileSync(script, SERVER);
  sim = new SimCluster({
    runtime: (c: ContainerSpec) =>
      c.image.startsWith('local/web:')
        ? { command: process.execPath, args: [script], env: c.env }
        : undefined,
    logDir: dir,
    targetsFile: join(dir, 'targets.json'),
    kubelet: { preStopMs: 100, backoffMs: { initial: 100, max: 400 }, probeIntervalMs: 50 },
  });
  await sim.start();
  for (const name of ['node-a', 'node-b'])
    sim.api.put('nodes', { metadata: { name, labels: { 'kubernetes.io/hostname': name } }, spec: {} });
});

afterEach(async () => {
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('kube-sim: pods as processes', () => {
  it('runs each pod as a process, lists it for Prometheus, and reports it Ready only once it answers', async () => {
    sim.api.put('deployments', deployment(2));
    expect(status()['availableReplicas'] ?? 0).toBe(0); // nothing runs yet
    await eventually(() => sim.endpoints('shop', 'web').length === 2);
    const pods = sim.endpoints('shop', 'web');
    for (const pod of pods) {
      expect(pod.pod).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]+-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      expect(await (await fetch(pod.url)).text()).toBe('ok');
      expect(alive(pod.pid)).toBe(true);
    }
    await eventually(() => status()['availableReplicas'] === 2);
    await sim.targetsWritten();
    const targets = JSON.parse(readFileSync(join(dir, 'targets.json'), 'utf8')) as {
      targets: string[];
      labels: Record<string, string>;
    }[];
    expect(targets.map((t) => t.labels['pod']).sort()).toEqual(pods.map((p) => p.pod).sort());
    expect(targets[0]!.labels).toMatchObject({ namespace: 'shop', deployment: 'web' });
    expect(await metrics()).toMatch(
      /kube_pod_status_ready\{namespace="shop",pod="web-[^"]+",uid="[^"]+",condition="true"\} 1/,
    );
  });

  it('rolls out by starting new processes and stopping the old ones only after the new ones are ready', async () => {
    sim.api.put('deployments', deployment(2));
    await eventually(() => status()['availableReplicas'] === 2 && sim.endpoints('shop', 'web').length === 2);
    const before = sim.endpoints('shop', 'web');
    const dep = sim.api.get('deployments', 'shop', 'web')!;
    const template = (dep['spec'] as { template: { metadata: Record<string, unknown> } }).template;
    template.metadata['annotations'] = { 'kubectl.kubernetes.io/restartedAt': '2026-11-26T01:00:00Z' };
    sim.api.put('deployments', dep);
    // The old pods keep serving until replacements are ready.
    expect(sim.endpoints('shop', 'web').map((e) => e.pod)).toEqual(before.map((e) => e.pod));
    await eventually(() => {
      const now = sim.endpoints('shop', 'web');
      return now.length === 2 && now.every((e) => !before.some((b) => b.pod === e.pod));
    });
    await eventually(() => before.every((b) => !alive(b.pid)));
    const s = status();
    expect([s['replicas'], s['updatedReplicas'], s['availableReplicas']]).toEqual([2, 2, 2]);
  });

  it('keeps a listening pod out of the endpoints until its readiness gate passes', async () => {
    await sim.stop();
    let open = false;
    const script = join(dir, 'server.cjs');
    sim = new SimCluster({
      runtime: (c: ContainerSpec) => ({ command: process.execPath, args: [script], env: c.env }),
      kubelet: { probeIntervalMs: 50, readinessGate: async () => open },
    });
    await sim.start();
    sim.api.put('deployments', deployment(1));
    await eventually(() => sim.kubelet.scrapeTargets().length === 1);
    const [pod] = sim.kubelet.scrapeTargets();
    await eventually(
      async () =>
        (await fetch(pod!.url).then(
          (r) => r.text(),
          () => '',
        )) === 'ok',
    );
    await new Promise((r) => setTimeout(r, 300)); // several probes with the gate closed
    expect(sim.endpoints('shop', 'web')).toEqual([]);
    expect(status()['availableReplicas'] ?? 0).toBe(0);
    open = true;
    await eventually(() => sim.endpoints('shop', 'web').length === 1 && status()['availableReplicas'] === 1);
  });

  it('scales with extra processes', async () => {
    sim.api.put('deployments', deployment(1));
    await eventually(() => sim.endpoints('shop', 'web').length === 1);
    const dep = sim.api.get('deployments', 'shop', 'web')!;
    sim.api.put('deployments', { ...dep, spec: { ...(dep['spec'] as object), replicas: 3 } });
    await eventually(() => sim.endpoints('shop', 'web').length === 3);
    expect(new Set(sim.endpoints('shop', 'web').map((e) => e.pid)).size).toBe(3);
  });

  it('restarts a container that exits, with CrashLoopBackOff, while the previous revision keeps serving', async () => {
    sim.api.put('deployments', deployment(1));
    await eventually(() => status()['availableReplicas'] === 1);
    const good = sim.endpoints('shop', 'web')[0]!;
    sim.api.put('deployments', {
      ...sim.api.get('deployments', 'shop', 'web')!,
      ...deployment(1, { CRASH: '1' }),
    });
    await eventually(async () =>
      /kube_pod_container_status_restarts_total\{[^}]*\} [2-9]/.test(await metrics()),
    );
    const text = await metrics();
    expect(text).toMatch(/kube_pod_container_status_waiting_reason\{[^}]*reason="CrashLoopBackOff"\} 1/);
    // The crashing pod never started, so it reports no Ready condition; the old pod still serves.
    expect(sim.endpoints('shop', 'web').map((e) => e.pod)).toEqual([good.pod]);
    expect(alive(good.pid)).toBe(true);
    expect(status()['availableReplicas']).toBe(1);
  });

  it('freezes the pods of a failed node and leaves them out of the endpoints; stop() leaves no process', async () => {
    sim.api.put('deployments', deployment(2));
    await eventually(() => sim.endpoints('shop', 'web').length === 2);
    const victim = sim.endpoints('shop', 'web')[0]!;
    sim.kubelet.setNodeReady(victim.node!, false);
    await eventually(() => procState(victim.pid!) === 'T'); // SIGSTOP lands asynchronously
    expect(sim.endpoints('shop', 'web').map((e) => e.pod)).not.toContain(victim.pod);
    await eventually(async () =>
      (await metrics()).includes(
        `kube_node_status_condition{node="${victim.node}",condition="Ready",status="false"} 1`,
      ),
    );
    const pids = sim.kubelet.scrapeTargets().map((e) => e.pid);
    await sim.stop();
    expect(pids.filter(alive)).toEqual([]);
  });
});
