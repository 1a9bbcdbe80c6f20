import { afterEach, describe as suite, expect, it } from 'vitest';
import { eventually } from '../support/http-receiver.ts';
import { setImage } from '../support/k8s-api/index.ts';
import {
  alert,
  CHECKOUT,
  clusterWrites,
  describe,
  finishedExecution,
  pages,
  startHarness,
  waitForStatus,
  type Harness,
} from './harness.ts';

const CRASH = {
  alertname: 'CheckoutCrashLooping',
  severity: 'critical',
  pod: 'checkout-7d9f8-abcde',
  ...CHECKOUT,
};

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A bad deploy: a new image becomes revision 2 and its pods crash. */
async function badDeploy(): Promise<void> {
  setImage(h!.api, 'shop', 'checkout', 'checkout:2-broken');
  await eventually(
    () => h!.api.list('replicasets').filter((r) => r.metadata.namespace === 'shop').length === 2,
  );
}

suite('runbook bad-deploy', () => {
  it('rolls back to the previous revision, verifies and resolves', async () => {
    h = await startHarness();
    await badDeploy();
    await alert(h, CRASH);
    await waitForStatus(h, 'verifying');
    const [rollback, ...rest] = clusterWrites(h);
    expect(rest).toEqual([]);
    expect(rollback).toMatchObject({
      method: 'PATCH',
      path: '/apis/apps/v1/namespaces/shop/deployments/checkout',
      contentType: 'application/json-patch+json',
      body: [
        {
          op: 'replace',
          path: '/spec/template',
          value: { spec: { containers: [expect.objectContaining({ image: 'checkout:1' })] } },
        },
        { op: 'replace', path: '/metadata/annotations', value: expect.any(Object) },
      ],
    });
    expect(h.api.get('deployments', 'shop', 'checkout')!['spec']).toMatchObject({
      template: { spec: { containers: [{ image: 'checkout:1' }] } },
    });
    await alert(h, CRASH, 'resolved');
    expect(await finishedExecution(h)).toMatchObject({ workflow: 'bad-deploy', status: 'SUCCEEDED' });
    const view = await waitForStatus(h, 'resolved');
    const story = describe(view);
    // Without Prometheus Rebound cannot tell whether the Deployment changed recently, and says so.
    expect(story).toMatch(
      /Could not tell whether the Deployment changed recently \(verify.query needs verify.prometheus.url/,
    );
    expect(story).toMatch(/after rolling back from revision 2 to 1/);
    expect(pages(h).map((p) => p['event_action'])).toEqual(['trigger', 'resolve']);
  });

  it('escalates after its retry when there is no revision to roll back to', async () => {
    h = await startHarness();
    await alert(h, CRASH);
    expect(await finishedExecution(h)).toMatchObject({ status: 'FAILED', error: 'Rebound.Escalated' });
    const view = await waitForStatus(h, 'escalated');
    expect(clusterWrites(h)).toEqual([]);
    expect(describe(view)).toMatch(
      /Escalated to on-call: remediation failed: K8sActionError \(.*no rollout history/i,
    );
    expect(pages(h).at(-1)).toMatchObject({
      event_action: 'trigger',
      dedup_key: view.incident.id,
      payload: { custom_details: { event: 'escalated' } },
    });
  });
});
