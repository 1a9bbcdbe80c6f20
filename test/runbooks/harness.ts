import { join } from 'node:path';
import { expect } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.ts';
import { DEFAULT_RUNBOOK_ROUTES } from '../../src/incidents/runbook-routing.ts';
import { ingest, makeTestApp, tempDir, webhook, type TestApp } from '../support/app.ts';
import { eventually } from '../support/http-receiver.ts';
import {
  KubeApiDouble,
  seedConfigMap,
  seedDeployment,
  seedNode,
  writeKubeconfig,
} from '../support/k8s-api/index.ts';
import type { HttpRecorder } from '../support/receivers/http-recorder.ts';
import { startPagerDutyReceiver } from '../support/receivers/pagerduty.ts';
import { startScriptedPrometheus, type ScriptedPrometheus } from '../support/receivers/prometheus.ts';
import { startSlackReceiver } from '../support/receivers/slack.ts';

/** The shipped runbooks, loaded exactly as `npm start` loads them. */
export const RUNBOOKS_DIR = join(import.meta.dirname, '..', '..', 'runbooks');
export const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';

/** The checkout alerts' labels as deploy/prometheus/rules attach them. */
export const CHECKOUT = { namespace: 'shop', service: 'checkout', deployment: 'checkout' };

/** A clock the test moves forward (approval deadlines read it); the engine's timers stay real. */
export class TestClock {
  offsetMs = 0;
  readonly now = () => new Date(Date.now() + this.offsetMs);
}

export interface Harness {
  readonly t: TestApp;
  readonly api: KubeApiDouble;
  readonly slack: HttpRecorder;
  readonly pagerduty: HttpRecorder;
  /** Answers `verify.query` and `verify.alertResolved` when the harness was started with `prometheus: true`. */
  readonly prometheus: ScriptedPrometheus;
  readonly clock: TestClock;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Merged into every route's parameters (short time-outs keep tests quick). */
  readonly parameters?: Record<string, unknown>;
  readonly guard?: ConfigInput['guard'];
  /** Route overrides by runbook name (e.g. requiresApproval). */
  readonly routes?: Record<string, { requiresApproval?: boolean }>;
  /** Leave out the cluster (shadow-by-default tests). */
  readonly noCluster?: boolean;
  readonly notify?: ConfigInput['notify'];
  /** Configure `verify.prometheus` (the scripted one); without it `verify.query` cannot tell anything. */
  readonly prometheus?: boolean;
  /** The Kubernetes double's clock (creationTimestamp and the like); real time by default. */
  readonly clusterNow?: () => Date;
}

/**
 * A started app with the shipped runbooks and default rules, a Kubernetes API double holding the shop
 * namespace (checkout Deployment, its flags ConfigMap, three nodes), local Slack and PagerDuty receivers, and
 * a scripted Prometheus (wired in only with `prometheus: true`).
 */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const api = new KubeApiDouble(options.clusterNow ? { now: options.clusterNow } : {});
  await api.start();
  // Nodes first, so the controller places the Deployments' pods on them.
  for (const node of ['node-a', 'node-b', 'node-c']) seedNode(api, node);
  seedDeployment(api, { namespace: 'shop', name: 'checkout', replicas: 2 });
  seedDeployment(api, { namespace: 'payments', name: 'ledger', replicas: 2 });
  seedConfigMap(api, 'shop', 'checkout-flags', { degraded_mode: 'false' });
  const slack = await startSlackReceiver();
  const pagerduty = await startPagerDutyReceiver();
  const prometheus = await startScriptedPrometheus();
  const dir = tempDir('rebound-runbooks-').path;
  const kubeconfig = await writeKubeconfig(dir, api.url);
  const clock = new TestClock();
  const parameters = {
    verifyTimeoutSeconds: 20,
    rolloutTimeoutSeconds: 20,
    quietPeriodSeconds: 0,
    ...options.parameters,
  };
  const t = await makeTestApp(
    {
      ...(options.noCluster
        ? {}
        : {
            kubernetes: {
              clusters: { prod: { kubeconfig } },
              preflightDryRun: false,
              pollIntervalMs: 20,
              evictionRetryMs: 20,
            },
          }),
      guard: options.guard ?? {
        allowlist: { namespaces: ['shop'], kinds: ['Deployment', 'ConfigMap', 'Pod', 'Node'] },
      },
      workflows: { runbooksDir: RUNBOOKS_DIR, reaperIntervalSeconds: 0.2 },
      ...(options.prometheus
        ? {
            verify: {
              prometheus: { url: prometheus.url, timeoutMs: 5_000 },
              alertResolved: { pollIntervalSeconds: 0.1 },
            },
          }
        : {}),
      notify: options.notify ?? {
        slack: { webhookUrl: `${slack.url}/services/T000/B000/XXXX` },
        pagerduty: { routingKey: ROUTING_KEY, url: pagerduty.url },
        attempts: 1,
      },
      incidents: {
        runbooks: {
          routes: DEFAULT_RUNBOOK_ROUTES.map((r) => ({
            ...r,
            ...options.routes?.[r.runbook],
            parameters: { ...r.parameters, ...parameters },
          })),
        },
      },
    },
    clock.now,
    dir,
  );
  return {
    t,
    api,
    slack,
    pagerduty,
    prometheus,
    clock,
    async close() {
      await t.close();
      await api.stop();
      await slack.close();
      await pagerduty.close();
      await prometheus.close();
    },
  };
}

/** Posts one alert (firing unless said otherwise) as Alertmanager would. */
export async function alert(
  h: Harness,
  labels: Record<string, string>,
  status: 'firing' | 'resolved' = 'firing',
  summary = `${labels['alertname']} on ${labels['service'] ?? labels['node'] ?? 'something'}`,
): Promise<void> {
  await ingest(h.t.app, webhook([{ labels, status, annotations: { summary } }]));
}

export interface IncidentView {
  incident: { id: string; status: string; severity: string };
  timeline: { actor: string; kind: string; description: string; data: unknown }[];
}

export async function onlyIncident(h: Harness): Promise<IncidentView> {
  const { items } = await h.t.app.incidents.list({ limit: 10 });
  expect(items).toHaveLength(1);
  return (await h.t.app.http.inject({ url: `/v1/incidents/${items[0]!.id}` })).json() as IncidentView;
}

export async function waitForStatus(h: Harness, status: string): Promise<IncidentView> {
  let view: IncidentView | undefined;
  await eventually(async () => {
    view = await onlyIncident(h);
    return view.incident.status === status;
  }, 30_000).catch(() => {
    throw new Error(`incident never reached ${status}; timeline:\n${describe(view)}`);
  });
  return view!;
}

export interface ExecutionView {
  executionId: string;
  name: string;
  workflow: string;
  status: string;
  error?: string;
  cause?: string;
  output?: Record<string, unknown>;
}

/** Waits until the only execution ended, and returns it with its output. */
export async function finishedExecution(h: Harness): Promise<ExecutionView> {
  let last: ExecutionView | undefined;
  await eventually(async () => {
    const items = (await h.t.app.http.inject({ url: '/v1/executions' })).json().items as ExecutionView[];
    last = items[0];
    return items.length === 1 && last!.status !== 'RUNNING';
  }, 40_000).catch(async () => {
    throw new Error(`execution never ended: ${JSON.stringify(last)}\n${describe(await onlyIncident(h))}`);
  });
  return (
    await h.t.app.http.inject({ url: `/v1/executions/${encodeURIComponent(last!.executionId)}` })
  ).json() as ExecutionView;
}

/** The timeline's descriptions, one per line, for failure messages and `toContain` checks. */
export function describe(view: IncidentView | undefined): string {
  return view ? view.timeline.map((e) => `${e.kind} ${e.actor}: ${e.description}`).join('\n') : '(none)';
}

/**
 * The first PATCH of a path ending in `suffix` goes through; every later one (the compensation) is
 * refused 403 Forbidden. (A failure a request listener schedules applies to the request it sees.)
 */
export function forbidPatchesAfterFirst(h: Harness, suffix: string): void {
  let patches = 0;
  h.api.onRequest((r) => {
    if (r.method === 'PATCH' && r.path.endsWith(suffix) && ++patches > 1)
      h.api.failNext(1, { code: 403, reason: 'Forbidden' }, { method: 'PATCH', pathIncludes: suffix });
  });
}

/** Requests the cluster received that change something (PATCH/POST/DELETE), in order. */
export function clusterWrites(h: Harness) {
  return h.api
    .writes()
    .map((w) => ({ method: w.method, path: w.path, contentType: w.contentType, body: w.body }));
}

/** The circuit breakers `GET /v1/automation` reports: one per scope that has counted an outcome. */
export async function breakers(h: Harness) {
  return (await h.t.app.http.inject({ url: '/v1/automation' })).json().breakers as {
    scope: string;
    outcomes: number;
    successRate?: number;
  }[];
}

/** PagerDuty events as received, parsed. */
export function pages(h: Harness): Record<string, unknown>[] {
  return h.pagerduty.jsonBodies() as Record<string, unknown>[];
}

/** Slack messages as received: the fallback `text` of each. */
export function slackTexts(h: Harness): string[] {
  return (h.slack.jsonBodies() as { text: string }[]).map((m) => m.text);
}

export interface ApprovalView {
  id: string;
  runbook: string;
  summary: string;
  status: string;
  incidentId: string;
  expiresAt: string;
}

/** Waits until exactly one approval is pending, and returns it. */
export async function pendingApproval(h: Harness): Promise<ApprovalView> {
  let items: ApprovalView[] = [];
  await eventually(async () => {
    items = (await h.t.app.http.inject({ url: '/v1/approvals?status=pending' })).json()
      .items as ApprovalView[];
    return items.length === 1;
  }, 30_000);
  return items[0]!;
}

/** Decides an approval through the REST API, as an operator (or the CLI) would. */
export async function decide(h: Harness, id: string, decision: 'remediate' | 'skip'): Promise<void> {
  const res = await h.t.app.http.inject({
    method: 'POST',
    url: `/v1/approvals/${id}/decision`,
    payload: { decision },
  });
  expect(res.statusCode).toBe(200);
}

/** Moves the clock past the default approval time-out (900 s) and runs the sweeper's pass at once. */
export async function expireApprovals(h: Harness): Promise<void> {
  h.clock.offsetMs = 901_000;
  expect(await h.t.app.approvals.sweep()).toMatchObject({ expired: 1 });
}

/** A PagerDuty `trigger` exactly as Rebound sends it; `payload` is spelled out by the test (timestamp aside). */
export function pdTrigger(incidentId: string, payload: Record<string, unknown>): Record<string, unknown> {
  return {
    routing_key: ROUTING_KEY,
    dedup_key: incidentId,
    event_action: 'trigger',
    payload: { timestamp: expect.any(String), ...payload },
    client: 'Rebound',
  };
}

/** The PagerDuty `resolve` for an incident's page. */
export function pdResolve(incidentId: string): Record<string, unknown> {
  return { routing_key: ROUTING_KEY, dedup_key: incidentId, event_action: 'resolve' };
}

/** The `custom_details` fields of an escalation page (and the Slack message's result) for this reason. */
export function escalated(reason: string | RegExp): Record<string, unknown> {
  if (typeof reason === 'string') {
    return { event: 'escalated', status: 'escalated', description: reason, result: `escalated: ${reason}` };
  }
  const rest = reason.source.replace(/^\^/, '');
  return {
    event: 'escalated',
    status: 'escalated',
    description: expect.stringMatching(reason),
    result: expect.stringMatching(new RegExp(`^escalated: ${rest}`)),
  };
}
