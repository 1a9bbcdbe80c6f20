import { setTimeout as sleep } from 'node:timers/promises';
import type { Incident, TimelineEntry } from '../incidents/model.ts';
import type { ExecutionSummary } from '../workflows/port.ts';
import type { RecordedRequest } from '../kube-sim/index.ts';
import { compareWrites, type Scenario } from './scenarios.ts';
import type { DemoStack } from './stack.ts';

/**
 * One loop of the demo: inject a scenario's fault, then follow what happens through Rebound's own records
 * (the incident and its timeline, runbook executions) and the stand-in's API log, until the incident is
 * resolved or escalated. Every observation becomes a timestamped step; the result carries the measured
 * durations (fault → firing webhook → first remediation → resolved).
 */

export type StepKind =
  | 'fault'
  | 'alert.firing'
  | 'incident.opened'
  | 'runbook.started'
  | 'approval'
  | 'remediation'
  | 'timeline'
  | 'rollout'
  | 'verified'
  | 'runbook.finished'
  | 'incident.resolved'
  | 'incident.escalated';

export interface Step {
  readonly at: number;
  readonly kind: StepKind;
  readonly text: string;
}

export interface LoopResult {
  readonly scenario: string;
  readonly outcome: 'resolved' | 'escalated' | 'timeout';
  readonly incident: Incident | undefined;
  readonly steps: readonly Step[];
  readonly timeline: readonly TimelineEntry[];
  readonly executions: readonly ExecutionSummary[];
  /** Non-GET requests Rebound sent to the stand-in during the loop (dry runs included). */
  readonly writes: readonly RecordedRequest[];
  /**
   * Empty when the real writes match the scenario's expectation exactly and in order. Writes the runbooks of
   * other incidents opened meanwhile made (as their timelines record them) are set aside first.
   */
  readonly writeProblems: readonly string[];
  /** Incidents other than the scenario's that opened during the loop (e.g. a second symptom). */
  readonly otherIncidents: readonly Incident[];
  /** Stand-in writes those incidents' runbooks made. */
  readonly otherWrites: readonly RecordedRequest[];
  readonly faultAt: number;
  /** Milliseconds from the fault. */
  readonly firingAfterMs: number | undefined;
  readonly firstRemediationAfterMs: number | undefined;
  readonly resolvedAfterMs: number | undefined;
}

export interface LoopOptions {
  readonly onStep?: (step: Step) => void;
  readonly timeoutMs?: number;
  /** Approve pending approvals for this incident as the on-call person would (the node runbook asks). */
  readonly autoApprove?: boolean;
}

/** Describes a stand-in write for people: what it does, then the request (`PATCH configmaps/shop/...`). */
export function describeWrite(r: RecordedRequest): string {
  const parts = r.path.split('/').filter(Boolean);
  const ns = parts.indexOf('namespaces');
  const namespace = ns >= 0 ? parts[ns + 1] : undefined;
  const tail = ns >= 0 ? parts.slice(ns + 2) : parts.slice(2);
  const [resource, name, sub] = tail;
  const request = `${r.method} ${resource}/${namespace ? `${namespace}/` : ''}${name ?? ''}${sub ? `/${sub}` : ''}`;
  const body = JSON.stringify(r.body ?? null);
  const what =
    resource === 'configmaps' && /"true"/.test(body)
      ? 'degraded mode enabled'
      : resource === 'configmaps'
        ? 'flag changed'
        : sub === 'scale'
          ? `scaled to ${/"replicas":(\d+)/.exec(body)?.[1] ?? '?'} replicas`
          : resource === 'deployments' && body.includes('restartedAt')
            ? 'rollout restart'
            : resource === 'deployments' && body.includes('/spec/template')
              ? 'rollback to the previous revision'
              : resource === 'nodes' && body.includes('"unschedulable":true')
                ? 'node cordoned'
                : sub === 'eviction'
                  ? 'pod evicted'
                  : 'cluster write';
  return `${what} (${request})`;
}

export async function runLoop(
  stack: DemoStack,
  scenario: Scenario,
  options: LoopOptions = {},
): Promise<LoopResult> {
  const app = stack.app!;
  const steps: Step[] = [];
  /** What this poll found, from every source: told in the order it happened, once the poll is done. */
  let found: Step[] = [];
  const step = (kind: StepKind, text: string, at = Date.now()) =>
    void found.push({ at: Number.isFinite(at) ? at : Date.now(), kind, text });
  const tell = () => {
    // Stable: steps with the same time keep the order they were found in (alert firing, then incident opened).
    for (const s of found.sort((a, b) => a.at - b.at)) {
      steps.push(s);
      options.onStep?.(s);
    }
    found = [];
  };
  const requestMark = stack.sim.api.requests.length;
  const known = new Set((await app.incidents.list({ limit: 50 })).items.map((i) => i.id));
  const seenExecutions = new Map<string, string>();
  for (const e of (await app.engine.list({ limit: 50 })).items) seenExecutions.set(e.id, e.status);
  const approved = new Set<string>();

  stack.fault = {};
  const faultAt = Date.now();
  step('fault', await scenario.inject(stack), faultAt);
  tell();

  let incident: Incident | undefined;
  let timeline: TimelineEntry[] = [];
  let timelineSeen = 0;
  let writesSeen = 0;
  let firstRemediationAt: number | undefined;
  const executions = new Map<string, ExecutionSummary>();
  const deadline = faultAt + (options.timeoutMs ?? 120_000);
  let outcome: LoopResult['outcome'] = 'timeout';
  let resolvedSeenAt: number | undefined;

  while (Date.now() < deadline) {
    // Writes the stand-in saw (real ones; dry runs are the guard's preflight).
    const writes = stack.writesSince(requestMark);
    for (const w of writes.slice(writesSeen)) {
      if (w.query['dryRun'] !== undefined) continue;
      const at = stack.receivedAt(w) ?? Date.now();
      firstRemediationAt ??= at;
      step('remediation', `Kubernetes API ← ${describeWrite(w)}`, at);
    }
    writesSeen = writes.length;

    if (!incident) {
      const page = await app.incidents.list({ limit: 50 });
      // The scenario's own incident: a straggler from the previous loop (an alert re-firing once) is not it.
      incident = page.items
        .filter((i) => !known.has(i.id) && i.labels['alertname'] === scenario.alertname)
        .sort((a, b) => (a.openedAt < b.openedAt ? -1 : 1))[0];
      if (incident) {
        step('alert.firing', `Alertmanager → Rebound: ${incident.title}`, Date.parse(incident.openedAt));
        step(
          'incident.opened',
          `incident ${incident.id} opened (${incident.severity})`,
          Date.parse(incident.openedAt),
        );
      }
    }
    if (incident) {
      const detail = await app.incidents.get(incident.id);
      incident = detail.incident;
      timeline = detail.timeline;
      for (const entry of timeline.slice(timelineSeen)) {
        if (entry.kind === 'incident.opened' || entry.kind === 'alert.attached') continue;
        // Each action passes eight guard checks; only a refusal is worth a line.
        if (
          entry.kind === 'guard.verdict' &&
          (entry.data as { outcome?: string } | null)?.outcome === 'allowed'
        )
          continue;
        const kind: StepKind = /^k8s\.waitRollout succeeded/.test(entry.description)
          ? 'rollout'
          : /^verify\.alertResolved succeeded/.test(entry.description)
            ? 'verified'
            : 'timeline';
        step(kind, `${entry.actor}: ${entry.description}`, Date.parse(entry.at));
      }
      timelineSeen = timeline.length;
    }

    for (const e of (await app.engine.list({ limit: 50 })).items) {
      if (e.startTime < faultAt - 1000) continue;
      const before = seenExecutions.get(e.id);
      executions.set(e.id, e);
      if (before === undefined)
        step('runbook.started', `runbook ${e.machineName} started (${e.name})`, e.startTime);
      if (before !== e.status && e.status !== 'RUNNING')
        step(
          'runbook.finished',
          `runbook ${e.machineName} ${e.status}${e.error ? ` (${e.error})` : ''}`,
          e.stopTime ?? Date.now(),
        );
      seenExecutions.set(e.id, e.status);
    }

    if (options.autoApprove && incident) await approvePending(stack, incident.id, approved, step);

    // The runbook's last steps (its notes and notifications) may still run after the incident moved.
    const running = [...executions.values()].some((e) => e.status === 'RUNNING');
    if (incident?.status === 'resolved' && outcome !== 'resolved') {
      step('incident.resolved', `incident ${incident.id} resolved`, Date.parse(incident.resolvedAt ?? ''));
      outcome = 'resolved';
      resolvedSeenAt = Date.now();
    }
    // ...but not for long: a runbook may wait out a quiet period (high-latency scales back after minutes).
    if (incident?.status === 'escalated' && !running) {
      step(
        'incident.escalated',
        `incident ${incident.id} escalated to a human`,
        Date.parse(incident.escalatedAt ?? ''),
      );
      outcome = 'escalated';
    }
    tell();
    if (outcome === 'escalated') break;
    if (outcome === 'resolved' && (!running || Date.now() - resolvedSeenAt! > 5000)) break;
    await sleep(100);
  }
  // Let an action that was already on the wire be recorded, so the write comparison is complete.
  await sleep(200);
  const writes = stack.writesSince(requestMark);
  const otherIncidents = (await app.incidents.list({ limit: 50 })).items.filter(
    (i) => !known.has(i.id) && i.id !== incident?.id,
  );
  const { own, others } = await splitWrites(stack, writes, otherIncidents);
  const resolvedAt = incident?.resolvedAt ? Date.parse(incident.resolvedAt) : undefined;
  return {
    scenario: scenario.name,
    outcome,
    incident,
    steps,
    timeline,
    executions: [...executions.values()],
    writes: own,
    writeProblems: compareWrites(own, scenario.expectedWrites(stack.fault)),
    otherIncidents,
    otherWrites: others,
    faultAt,
    firingAfterMs: incident ? Date.parse(incident.openedAt) - faultAt : undefined,
    firstRemediationAfterMs: firstRemediationAt === undefined ? undefined : firstRemediationAt - faultAt,
    resolvedAfterMs: outcome === 'resolved' && resolvedAt !== undefined ? resolvedAt - faultAt : undefined,
  };
}

interface ApprovalView {
  id: string;
  incidentId: string;
  runbook: string;
  summary: string;
}

/** Approves this incident's pending approvals through the REST API, as the on-call person would. */
async function approvePending(
  stack: DemoStack,
  incidentId: string,
  done: Set<string>,
  step: (kind: StepKind, text: string) => void,
): Promise<void> {
  const app = stack.app!;
  const res = await app.http.inject({ url: '/v1/approvals?status=pending' });
  if (res.statusCode !== 200) return;
  const items = (res.json() as { items?: ApprovalView[] }).items ?? [];
  for (const a of items.filter((x) => x.incidentId === incidentId && !done.has(x.id))) {
    done.add(a.id);
    step('approval', `approval requested by ${a.runbook}: ${a.summary}`);
    const decision = await app.http.inject({
      method: 'POST',
      url: `/v1/approvals/${encodeURIComponent(a.id)}/decision`,
      payload: { decision: 'remediate' },
    });
    step('approval', `on-call approved (demo, POST /v1/approvals/${a.id}/decision → ${decision.statusCode})`);
  }
}

/** Sets aside the stand-in writes that other incidents' timelines say their runbooks sent. */
async function splitWrites(
  stack: DemoStack,
  writes: readonly RecordedRequest[],
  otherIncidents: readonly Incident[],
): Promise<{ own: RecordedRequest[]; others: RecordedRequest[] }> {
  const theirs: string[] = [];
  for (const other of otherIncidents) {
    for (const entry of (await stack.app!.incidents.get(other.id)).timeline) {
      const sent = (entry.data as { writes?: { method: string; path: string }[] } | null)?.writes;
      if (entry.kind === 'action' && Array.isArray(sent))
        theirs.push(...sent.map((w) => `${w.method} ${w.path}`));
    }
  }
  const own: RecordedRequest[] = [];
  const others: RecordedRequest[] = [];
  for (const w of writes) {
    const query = new URLSearchParams(w.query).toString();
    const at = theirs.indexOf(`${w.method} ${w.path}${query ? `?${query}` : ''}`);
    if (at >= 0) {
      theirs.splice(at, 1);
      others.push(w);
    } else own.push(w);
  }
  return { own, others };
}
