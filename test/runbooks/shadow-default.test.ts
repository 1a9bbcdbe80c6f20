import { afterEach, describe as suite, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.ts';
import { parseConfig } from '../../src/config/load.ts';
import { SHADOW_BY_DEFAULT_MESSAGE } from '../../src/guard/config.ts';
import { tempDir } from '../support/app.ts';
import {
  alert,
  CHECKOUT,
  clusterWrites,
  describe,
  finishedExecution,
  RUNBOOKS_DIR,
  startHarness,
  waitForStatus,
  type Harness,
} from './harness.ts';

const ERRORS = { alertname: 'CheckoutHighErrorRatio', severity: 'critical', ...CHECKOUT };

let h: Harness | undefined;
let app: App | undefined;
afterEach(async () => {
  await h?.close();
  await app?.stop();
  h = undefined;
  app = undefined;
});

suite('shadow mode until a cluster and an allowlist are configured', () => {
  it('says so on the start-up line and in GET /v1/automation', async () => {
    const lines: string[] = [];
    const dir = tempDir('rebound-shadow-').path;
    app = createApp({
      config: parseConfig({
        dataDir: dir,
        server: { listen: '127.0.0.1:0' },
        workflows: { runbooksDir: RUNBOOKS_DIR },
      }),
      logDestination: { write: (line: string) => void lines.push(line) },
    });
    await app.start();
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; level: number; missing?: string[] });
    expect(logged).toContainEqual(
      expect.objectContaining({
        msg: 'shadow mode: no cluster/allowlist configured — actions are recorded, not sent',
        missing: ['kubernetes.clusters', 'guard.allowlist.namespaces'],
      }),
    );
    expect(logged.find((l) => l.msg === 'rebound is ready to receive webhooks')).toMatchObject({
      automation: 'shadow',
    });
    const status = (await app.http.inject({ url: '/v1/automation' })).json();
    expect(status).toMatchObject({
      shadow: { global: true },
      mode: {
        mode: 'shadow',
        reason: 'default',
        message: SHADOW_BY_DEFAULT_MESSAGE,
        missing: ['kubernetes.clusters', 'guard.allowlist.namespaces'],
      },
    });
    // The shipped runbooks are loaded and the default rules start them.
    expect(
      (await app.http.inject({ url: '/v1/workflows' })).json().items.map((w: { name: string }) => w.name),
    ).toEqual(['bad-deploy', 'high-error-rate', 'high-latency', 'node-not-ready', 'unknown-alert']);
  });

  it('runs a shipped runbook with a cluster but no allowlist: reads happen, writes are recorded, not sent', async () => {
    h = await startHarness({ guard: {} });
    expect((await h.t.app.http.inject({ url: '/v1/automation' })).json().mode).toMatchObject({
      mode: 'shadow',
      missing: ['guard.allowlist.namespaces'],
    });
    await alert(h, ERRORS);
    const verifying = await waitForStatus(h, 'verifying');
    expect(clusterWrites(h)).toEqual([]);
    const story = describe(verifying);
    // The verdicts say why: the settings still missing, not an allowlist or a global switch nobody set.
    expect(story).toMatch(
      /config.set on ConfigMap shop\/checkout-flags: shadowed by shadow \(shadow until configured \(guard.shadow.untilConfigured; missing: guard.allowlist.namespaces\): writes are recorded, not sent\)/,
    );
    expect(story).toMatch(
      /config.set on ConfigMap shop\/checkout-flags: allowed by allowlist \(not consulted: shadow until configured/,
    );
    expect(story).not.toMatch(/is in the allowlist|guard.shadow.global/);
    expect(story).toMatch(/k8s.restart on Deployment shop\/checkout: shadowed by shadow/);
    await alert(h, ERRORS, 'resolved');
    expect(await finishedExecution(h)).toMatchObject({ status: 'SUCCEEDED' });
    const done = await waitForStatus(h, 'resolved');
    expect(describe(done)).toMatch(/shadow mode: nothing was sent, so the alert resolved without Rebound/);
    // A shadow run is no evidence either way: the breaker counts nothing.
    expect((await h.t.app.http.inject({ url: '/v1/automation' })).json().breakers).toEqual([]);
  });

  it('acts for real once both are configured', async () => {
    h = await startHarness();
    expect((await h.t.app.http.inject({ url: '/v1/automation' })).json().mode).toEqual({
      mode: 'live',
      message: 'live: guarded actions are sent to the cluster',
    });
  });
});
