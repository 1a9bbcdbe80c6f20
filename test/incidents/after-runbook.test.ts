import { afterEach, describe, expect, it } from 'vitest';
import type { ActionContext } from '../../src/actions/types.ts';
import type { JsonObject } from '../../src/workflows/types.ts';
import { makeTestApp, tempDir, webhook, type TestApp } from '../support/app.ts';
import { eventually } from '../support/http-receiver.ts';
import type { HttpRecorder } from '../support/receivers/http-recorder.ts';
import { startPagerDutyReceiver } from '../support/receivers/pagerduty.ts';
import { startScriptedPrometheus, type ScriptedPrometheus } from '../support/receivers/prometheus.ts';

let t: TestApp | undefined;
let pd: HttpRecorder | undefined;
let prometheus: ScriptedPrometheus | undefined;
afterEach(async () => {
  await t?.close();
  await pd?.close();
  await prometheus?.close();
  t = undefined;
  pd = undefined;
  prometheus = undefined;
});

const SHOP = { namespace: 'shop', service: 'checkout', severity: 'critical' };
const CRASHING = { alertname: 'CheckoutCrashLooping', ...SHOP };

/** A runbook that takes the incident in hand, then waits: long enough to be stopped, or to see alerts resolve. */
const HOLDS_THE_INCIDENT = {
  StartAt: 'Remediating',
  States: {
    Remediating: {
      Type: 'Task',
      Resource: 'rebound:incident.note',
      Parameters: { 'incidentId.$': '$.incidentId', status: 'remediating', description: 'working on it' },
      ResultPath: null,
      Next: 'Hold',
    },
    Hold: { Type: 'Wait', SecondsPath: '$.holdSeconds', End: true },
  },
};

const config = (pagerDutyUrl: string) => ({
  bus: {
    rules: [
      {
        name: 'alerts-to-incidents',
        pattern: { source: ['rebound.alertmanager'] },
        targets: [{ kind: 'incidents' as const, id: 'incidents' }],
      },
    ],
  },
  notify: { pagerduty: { routingKey: 'K'.repeat(32), url: pagerDutyUrl }, attempts: 1 },
});

async function start(dir?: string, options: { prometheus?: ScriptedPrometheus } = {}) {
  pd ??= await startPagerDutyReceiver();
  const verify = options.prometheus ? { verify: { prometheus: { url: options.prometheus.url } } } : {};
  t = await makeTestApp({ ...config(pd.url), ...verify }, undefined, dir);
  t.app.workflows.register('holds', HOLDS_THE_INCIDENT);
  return t;
}

async function post(alerts: { labels: Record<string, string>; status?: 'firing' | 'resolved' }[]) {
  const res = await t!.app.http.inject({
    method: 'POST',
    url: '/v1/webhooks/alertmanager',
    payload: webhook(alerts),
  });
  expect(res.statusCode).toBe(200);
  await t!.app.settle();
}

const onlyIncident = async () => {
  const { items } = await t!.app.incidents.list({ limit: 2 });
  expect(items).toHaveLength(1);
  return t!.app.incidents.get(items[0]!.id);
};

const pages = () => (pd!.jsonBodies() as { event_action: string }[]).map((b) => b.event_action);

/** Starts `workflow` and waits until its first step has taken the incident in hand. */
async function startHolding(workflow: string, input: JsonObject & { incidentId: string }) {
  const { executionId } = await t!.app.engine.startExecution(workflow, input);
  await eventually(async () => (await onlyIncident()).incident.status === 'remediating');
  return executionId;
}

const runHolding = (incidentId: string, holdSeconds: number) =>
  startHolding('holds', { incidentId, holdSeconds });

describe('an incident its runbook lets go of', () => {
  it('is escalated when the runbook is stopped while it holds the incident and alerts still fire', async () => {
    await start();
    await post([{ labels: { ...CRASHING, pod: 'abcde' } }]);
    const { incident } = await onlyIncident();
    const executionId = await runHolding(incident.id, 3600);
    await t!.app.engine.stopExecution(executionId, 'Operator.Stopped', 'stuck');
    await t!.app.settle();
    const after = await onlyIncident();
    expect(after.incident.status).toBe('escalated');
    expect(after.timeline.map((e) => e.description)).toContainEqual(
      expect.stringMatching(
        /^Escalated to on-call: runbook holds ended ABORTED: Operator.Stopped \(stuck\), leaving the incident remediating with 1 alert\(s\) firing$/,
      ),
    );
    expect(pages()).toEqual(['trigger']);
  });

  it('is left to the execution still working on it when another one for it ends', async () => {
    await start();
    await post([{ labels: { ...CRASHING, pod: 'abcde' } }]);
    const { incident } = await onlyIncident();
    const holding = await runHolding(incident.id, 3600);
    const quick = await t!.app.engine.startExecution('holds', { incidentId: incident.id, holdSeconds: 0 });
    await t!.app.engine.waitFor(quick.executionId);
    await t!.app.settle();
    expect((await onlyIncident()).incident.status).toBe('remediating');
    expect(pages()).toEqual([]);
    await t!.app.engine.stopExecution(holding, 'Operator.Stopped', 'stuck');
    await t!.app.settle();
    expect((await onlyIncident()).incident.status).toBe('escalated');
    expect(pages()).toEqual(['trigger']);
  });

  it('is resolved when its alerts all resolved while the runbook held it', async () => {
    await start();
    await post([{ labels: { ...CRASHING, pod: 'abcde' } }]);
    const { incident } = await onlyIncident();
    const executionId = await runHolding(incident.id, 3600);
    await post([{ labels: { ...CRASHING, pod: 'abcde' }, status: 'resolved' }]);
    // The runbook still holds it: resolving alerts do not resolve an incident under automation.
    expect((await onlyIncident()).incident.status).toBe('remediating');
    await t!.app.engine.stopExecution(executionId, 'Operator.Stopped', 'done waiting');
    await t!.app.settle();
    const after = await onlyIncident();
    expect(after.incident.status).toBe('resolved');
    expect(after.timeline.at(-1)?.description).toBe(
      'All 1 alert(s) resolved and runbook holds ended ABORTED: Operator.Stopped (done waiting): remediating → resolved',
    );
    expect(pages()).toEqual([]);
  });

  it('is settled at start when its runbook ended while Rebound was stopping', async () => {
    const dir = tempDir().path;
    await start(dir);
    await post([{ labels: { ...CRASHING, pod: 'abcde' } }]);
    const { incident } = await onlyIncident();
    // What a runbook that ended unseen leaves behind: the incident held, no execution running for it.
    await t!.app.incidents.setStatus(incident.id, 'remediating', {
      actor: 'runbook:gone',
      kind: 'status.changed',
      description: 'working on it',
    });
    await t!.app.stop();
    await (await start(dir)).app.settle();
    const after = await onlyIncident();
    expect(after.incident.status).toBe('escalated');
    expect(after.timeline.at(-1)?.description).toMatch(/^Escalation: pagerduty delivered/);
    expect(pages()).toEqual(['trigger']);
  });
});

describe('a runbook resumed after a restart', () => {
  /** Takes the incident, waits (the rollout), then verifies on the resolved webhook alone. */
  const VERIFIES = {
    StartAt: 'Remediating',
    States: {
      Remediating: { ...HOLDS_THE_INCIDENT.States.Remediating, Next: 'Rollout' },
      Rollout: { Type: 'Wait', SecondsPath: '$.waitSeconds', Next: 'Verify' },
      Verify: {
        Type: 'Task',
        Resource: 'rebound:verify.alertResolved',
        Parameters: { 'alertname.$': '$.labels.alertname', 'labels.$': '$.labels', timeoutSeconds: 3 },
        ResultPath: '$.verification',
        Next: 'Remediated',
      },
      Remediated: {
        Type: 'Task',
        Resource: 'rebound:incident.remediated',
        Parameters: { 'incidentId.$': '$.incidentId', summary: 'verified', 'verifiedLabels.$': '$.labels' },
        End: true,
      },
    },
  };

  it('still knows of the resolved webhook that arrived before the restart', async () => {
    const dir = tempDir().path;
    await start(dir);
    t!.app.workflows.register('verifies', VERIFIES);
    const labels = { ...CRASHING, pod: 'abcde' };
    await post([{ labels }]);
    const { incident } = await onlyIncident();
    const executionId = await startHolding('verifies', { incidentId: incident.id, labels, waitSeconds: 2 });
    await post([{ labels, status: 'resolved' }]); // during the rollout: Alertmanager sends it once
    await t!.app.stop();
    const again = await start(dir);
    // The execution carries its definition: nothing to register again.
    expect(await again.app.engine.waitFor(executionId)).toMatchObject({ status: 'SUCCEEDED' });
    await again.app.settle();
    expect((await onlyIncident()).incident.status).toBe('resolved');
  });
});

describe('the timeline of a callback task', () => {
  it('records the action with its task token hidden (viewers read timelines)', async () => {
    await start();
    await post([{ labels: CRASHING }]);
    const { incident } = await onlyIncident();
    t!.app.workflows.register('tells', {
      StartAt: 'Tell',
      States: {
        Tell: {
          Type: 'Task',
          Resource: 'rebound:notify.slack.waitForTaskToken',
          Parameters: { 'incidentId.$': '$.incidentId', title: 'x', 'replyWith.$': '$$.Task.Token' },
          End: true,
        },
      },
    });
    const { executionId } = await t!.app.engine.startExecution('tells', { incidentId: incident.id });
    await eventually(async () => (await onlyIncident()).timeline.some((e) => e.kind === 'action'));
    const scheduled = (await t!.app.engine.history(executionId)).find((e) => e.type === 'TaskScheduled')!;
    const { replyWith } = JSON.parse(
      (scheduled as unknown as { taskScheduledEventDetails: { parameters: string } })
        .taskScheduledEventDetails.parameters,
    ) as { replyWith: string };
    const action = (await onlyIncident()).timeline.find((e) => e.kind === 'action')!;
    expect(JSON.stringify(action)).not.toContain(replyWith);
    expect(action.data).toMatchObject({ params: { replyWith: '[task token hidden]' } });
  });
});

describe('incident.remediated with the labels it verified', () => {
  const ctx: ActionContext = {
    idempotencyKey: 'remediated-1',
    shadow: false,
    signal: new AbortController().signal,
    runbook: 'bad-deploy',
    now: () => new Date(),
  };

  it('escalates instead of resolving while another alert of the incident still fires', async () => {
    await start();
    // The rollout's new pod crash-loops too; the old pod's alert is the one the runbook verified.
    await post([{ labels: { ...CRASHING, pod: 'abcde' } }, { labels: { ...CRASHING, pod: 'fghij' } }]);
    const { incident } = await onlyIncident();
    const result = await t!.app.actions.run(
      'incident.remediated',
      {
        incidentId: incident.id,
        summary: 'verified: the alert resolved',
        verifiedLabels: { ...CRASHING, pod: 'abcde' },
      },
      ctx,
    );
    expect(result.output).toMatchObject({
      status: 'escalated',
      stillFiring: ['CheckoutCrashLooping{pod=fghij}'],
    });
    const after = await onlyIncident();
    expect(after.incident.status).toBe('escalated');
    expect(after.timeline.map((e) => e.description)).toContainEqual(
      expect.stringMatching(
        /^Escalated to on-call: verified: the alert resolved .*; but 1 other alert\(s\) of this incident still fire \(by Alertmanager's last notification\): CheckoutCrashLooping\{pod=fghij\}$/,
      ),
    );
    expect(pages()).toEqual(['trigger']);
  });

  it('asks Prometheus about the other alerts: one it says resolved does not escalate', async () => {
    prometheus = await startScriptedPrometheus();
    await start(undefined, { prometheus });
    const verified = { ...CRASHING, pod: 'abcde' };
    const other = { ...CRASHING, pod: 'fghij' };
    await post([{ labels: verified }, { labels: other }]);
    const { incident } = await onlyIncident();
    // Alertmanager has not yet told Rebound (group_interval) that the other pod's alert resolved too.
    const run = () =>
      t!.app.actions.run(
        'incident.remediated',
        { incidentId: incident.id, summary: 'verified', verifiedLabels: verified },
        ctx,
      );
    expect((await run()).output).toMatchObject({ status: 'resolved' });
    expect(prometheus.queries()).toEqual(['ALERTS{alertname="CheckoutCrashLooping",alertstate="firing"}']);
  });

  it('names the source that confirmed the other alerts still fire', async () => {
    prometheus = await startScriptedPrometheus();
    await start(undefined, { prometheus });
    const verified = { ...CRASHING, pod: 'abcde' };
    const other = { ...CRASHING, pod: 'fghij' };
    prometheus.fire(other);
    await post([{ labels: verified }, { labels: other }]);
    const { incident } = await onlyIncident();
    const result = await t!.app.actions.run(
      'incident.remediated',
      { incidentId: incident.id, summary: 'verified', verifiedLabels: verified },
      ctx,
    );
    expect(result.output).toMatchObject({
      status: 'escalated',
      stillFiring: ['CheckoutCrashLooping{pod=fghij}'],
    });
    expect((await onlyIncident()).timeline.map((e) => e.description)).toContainEqual(
      expect.stringMatching(
        /^Escalated to on-call: verified .*; but 1 other alert\(s\) of this incident still fire \(confirmed by prometheus\): CheckoutCrashLooping\{pod=fghij\}$/,
      ),
    );
  });

  it('resolves when only the verified alert is still firing in the incident (its resolution not seen yet)', async () => {
    await start();
    await post([{ labels: { ...CRASHING, pod: 'abcde' } }]);
    const { incident } = await onlyIncident();
    const result = await t!.app.actions.run(
      'incident.remediated',
      {
        incidentId: incident.id,
        summary: 'verified',
        verifiedLabels: { alertname: 'CheckoutCrashLooping', pod: 'abcde' },
      },
      ctx,
    );
    expect(result.output).toMatchObject({ status: 'resolved' });
    expect(result.output).not.toHaveProperty('stillFiring');
  });
});
