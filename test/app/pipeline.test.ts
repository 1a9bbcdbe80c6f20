import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeApiDouble, seedDeployment, writeKubeconfig } from '../support/k8s-api/index.ts';
import { makeTestApp, tempDir, webhook, type TestApp } from '../support/app.ts';
import { eventually } from '../support/http-receiver.ts';

// A runbook as users write it: restart the alerting service's Deployment, give up with a named error if refused.
const RESTART = {
  Comment: 'Rollout restart of the service that fires HighErrorRate',
  StartAt: 'Restart',
  States: {
    Restart: {
      Type: 'Task',
      Resource: 'rebound:k8s.restart',
      Parameters: {
        cluster: 'prod',
        'namespace.$': '$.detail.labels.namespace',
        'name.$': '$.detail.labels.service',
      },
      ResultPath: '$.restart',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Refused' }],
      End: true,
    },
    Refused: { Type: 'Fail', Error: 'RemediationRefused', CausePath: '$.error.Cause' },
  },
};

let t: TestApp | undefined;
let api: KubeApiDouble | undefined;
afterEach(async () => {
  await t?.close();
  await api?.stop();
  t = undefined;
});

async function setup(guard: Record<string, unknown> = {}) {
  api = new KubeApiDouble();
  await api.start();
  seedDeployment(api, { namespace: 'shop', name: 'checkout' });
  seedDeployment(api, { namespace: 'payments', name: 'ledger' });
  const dir = tempDir('rebound-pipeline-').path;
  const runbooks = join(dir, 'runbooks');
  mkdirSync(runbooks);
  writeFileSync(join(runbooks, 'restart.asl.json'), JSON.stringify(RESTART));
  const kubeconfig = await writeKubeconfig(dir, api.url);
  t = await makeTestApp({
    kubernetes: { clusters: { prod: { kubeconfig } }, preflightDryRun: false },
    guard: { allowlist: { namespaces: ['shop'] }, ...guard },
    workflows: { runbooksDir: runbooks, reaperIntervalSeconds: 0.2 },
    bus: {
      rules: [
        {
          name: 'alerts-to-incidents',
          pattern: { source: ['rebound.alertmanager'] },
          targets: [{ kind: 'incidents' as const, id: 'incidents' }],
        },
        {
          name: 'remediate',
          pattern: {
            source: ['rebound.alertmanager'],
            detail: { status: ['firing'], labels: { alertname: ['HighErrorRate'] } },
          },
          targets: [{ kind: 'workflow' as const, id: 'restart', workflow: 'restart' }],
        },
      ],
    },
  });
}

async function executions() {
  return (await t!.app.http.inject({ url: '/v1/executions' })).json().items as {
    status: string;
    workflow: string;
    error?: string;
    cause?: string;
    correlationId?: string;
  }[];
}

describe('alert → rule → runbook → guarded action → cluster', () => {
  it('restarts the Deployment named by the alert through the Kubernetes API', async () => {
    await setup();
    const res = await t!.app.http.inject({
      method: 'POST',
      url: '/v1/webhooks/alertmanager',
      payload: webhook([{ labels: { alertname: 'HighErrorRate', namespace: 'shop', service: 'checkout' } }]),
    });
    const correlationId = res.json().events[0].correlationId;
    await t!.app.settle();
    await eventually(async () => (await executions()).some((e) => e.status === 'SUCCEEDED'));
    const [execution] = await executions();
    expect(execution).toMatchObject({ workflow: 'restart', status: 'SUCCEEDED', correlationId });
    const patches = api!.writes().filter((r) => r.method === 'PATCH');
    expect(patches).toHaveLength(1);
    expect(patches[0]).toMatchObject({
      path: '/apis/apps/v1/namespaces/shop/deployments/checkout',
      contentType: 'application/strategic-merge-patch+json',
    });
    expect(JSON.stringify(patches[0]!.body)).toContain('kubectl.kubernetes.io/restartedAt');

    // The same alert delivered again (Alertmanager HA) starts nothing new and acts on nothing.
    await t!.app.http.inject({
      method: 'POST',
      url: '/v1/webhooks/alertmanager',
      payload: webhook([{ labels: { alertname: 'HighErrorRate', namespace: 'shop', service: 'checkout' } }]),
    });
    await t!.app.settle();
    expect(await executions()).toHaveLength(1);
    expect(api!.writes().filter((r) => r.method === 'PATCH')).toHaveLength(1);
  });

  it('lets guard rails refuse a namespace outside the allowlist: the runbook fails by name, the cluster is untouched', async () => {
    await setup();
    await t!.app.http.inject({
      method: 'POST',
      url: '/v1/webhooks/alertmanager',
      payload: webhook([
        { labels: { alertname: 'HighErrorRate', namespace: 'payments', service: 'ledger' } },
      ]),
    });
    await t!.app.settle();
    await eventually(async () => (await executions()).some((e) => e.status === 'FAILED'));
    const [execution] = await executions();
    expect(execution).toMatchObject({ status: 'FAILED', error: 'RemediationRefused' });
    expect(execution!.cause).toMatch(/payments/);
    expect(api!.writes()).toHaveLength(0);
  });

  it('runs a runbook in shadow mode when configured for it: the request is recorded, not sent', async () => {
    await setup({ shadow: { runbooks: ['restart'] } });
    await t!.app.http.inject({
      method: 'POST',
      url: '/v1/webhooks/alertmanager',
      payload: webhook([{ labels: { alertname: 'HighErrorRate', namespace: 'shop', service: 'checkout' } }]),
    });
    await t!.app.settle();
    await eventually(async () => (await executions()).some((e) => e.status === 'SUCCEEDED'));
    expect(api!.writes()).toHaveLength(0);
    const [summary] = (await t!.app.http.inject({ url: '/v1/executions' })).json().items;
    const detail = (
      await t!.app.http.inject({ url: `/v1/executions/${encodeURIComponent(summary.executionId)}` })
    ).json();
    // The action reports what it would have changed; nothing was sent, so no new generation exists.
    expect(detail.output.restart).toMatchObject({
      namespace: 'shop',
      name: 'checkout',
      generation: { before: 1, after: null },
    });
    expect(detail.output.restart.restartedAt.after).toEqual(expect.any(String));
  });

  it("records each run of a runbook for an incident on that incident's timeline, shadow writes included", async () => {
    await setup({ shadow: { runbooks: ['restart'] } });
    const labels = { alertname: 'DiskFull', namespace: 'shop', service: 'checkout' };
    await t!.app.http.inject({
      method: 'POST',
      url: '/v1/webhooks/alertmanager',
      payload: webhook([{ labels }]),
    });
    await t!.app.settle();
    const [incident] = (await t!.app.http.inject({ url: '/v1/incidents' })).json().items;
    const started = await t!.app.http.inject({
      method: 'POST',
      url: '/v1/executions',
      payload: { workflow: 'restart', input: { incidentId: incident.id, detail: { labels } } },
    });
    expect(started.statusCode).toBe(201);
    await eventually(async () => (await executions()).some((e) => e.status === 'SUCCEEDED'));
    const timeline = async () =>
      (await t!.app.http.inject({ url: `/v1/incidents/${incident.id}` })).json().timeline as {
        kind: string;
        actor: string;
        description: string;
        data: { outcome?: string; writes?: { method: string; path: string }[] };
      }[];
    await eventually(async () => (await timeline()).some((e) => /ended SUCCEEDED/.test(e.description)));
    const entries = (await timeline()).filter((e) => e.kind === 'execution' || e.kind === 'action');
    expect(entries.map((e) => [e.kind, e.actor])).toEqual([
      ['execution', 'runbook:restart'],
      ['action', 'runbook:restart'],
      ['execution', 'runbook:restart'],
    ]);
    const [begun, action, ended] = entries;
    expect(begun!.description).toBe('runbook restart started');
    // The exact request shadow mode kept from the cluster is on the record, where a human can review it.
    expect(action!.data.outcome).toBe('shadow');
    expect(action!.data.writes).toEqual([
      expect.objectContaining({
        method: 'PATCH',
        path: '/apis/apps/v1/namespaces/shop/deployments/checkout',
      }),
    ]);
    expect(action!.description).toBe(
      'k8s.restart in shadow mode: would have sent PATCH /apis/apps/v1/namespaces/shop/deployments/checkout',
    );
    expect(ended!.description).toBe('runbook restart ended SUCCEEDED');
    expect(api!.writes()).toHaveLength(0);
  });

  it('refuses to act while a maintenance window matching the alert is open', async () => {
    await setup();
    const pause = await t!.app.http.inject({
      method: 'POST',
      url: '/v1/automation/pause',
      payload: { match: { alertname: 'HighErrorRate' }, reason: 'deploy freeze' },
    });
    expect(pause.statusCode).toBeLessThan(300);
    await t!.app.http.inject({
      method: 'POST',
      url: '/v1/webhooks/alertmanager',
      payload: webhook([{ labels: { alertname: 'HighErrorRate', namespace: 'shop', service: 'checkout' } }]),
    });
    await t!.app.settle();
    await eventually(async () => (await executions()).some((e) => e.status === 'FAILED'));
    const [execution] = await executions();
    expect(execution!.cause).toMatch(/deploy freeze/);
    expect(api!.writes()).toHaveLength(0);
  });
});
