import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createVerifyActions,
  ResolvedAlertHub,
  VerificationFailedError,
} from '../../../src/actions/verify/index.ts';
import type { ActionDefinition } from '../../../src/actions/types.ts';
import { AlertmanagerClient } from '../../../src/integrations/alertmanager/client.ts';
import { equalityMatchers } from '../../../src/integrations/alertmanager/matchers.ts';
import { PrometheusClient } from '../../../src/integrations/prometheus/client.ts';
import { HttpRecorder } from '../../support/receivers/http-recorder.ts';
import { MetricsTarget } from '../../support/receivers/metrics-target.ts';
import {
  monitoringUnavailable,
  startAlertmanager,
  startPrometheus,
  type RunningServer,
} from '../../support/receivers/monitoring.ts';
import { eventually, rejection, testContext } from './context.ts';

/**
 * The real chain: a scrape target → Prometheus (rule fires) → Alertmanager → its webhook → ResolvedAlertHub.
 * Each test owns one `service` label; flipping its gauge to 0 resolves the alert in all three sources.
 */

const unavailable = monitoringUnavailable();
const SERVICES = ['webhook', 'alertmanager', 'prometheus', 'race', 'deadline'] as const;
const RULES = `groups:
  - name: test
    rules:
      - alert: HighErrorRate
        expr: rebound_test_fault > 0
        for: 0s
        labels: { severity: warning }
`;

describe.skipIf(unavailable !== undefined)(
  'verify.alertResolved against real Prometheus and Alertmanager',
  () => {
    const hub = new ResolvedAlertHub();
    let target: MetricsTarget;
    let webhook: HttpRecorder;
    let am: RunningServer;
    let prom: RunningServer;
    let action: ActionDefinition;

    beforeAll(async () => {
      target = await MetricsTarget.start();
      for (const s of SERVICES) target.set(`rebound_test_fault{service="${s}"}`, 1);
      webhook = await HttpRecorder.start((req) => {
        const payload = JSON.parse(req.body) as {
          alerts: {
            status: 'firing' | 'resolved';
            labels: Record<string, string>;
            startsAt: string;
            endsAt: string;
          }[];
        };
        for (const alert of payload.alerts) hub.observe(alert);
        return { status: 200 };
      });
      am = await startAlertmanager({ webhookUrl: `${webhook.url}/alertmanager` });
      prom = await startPrometheus({ targets: [target.address], rules: RULES, alertmanagerUrl: am.url });
      const config = {
        prometheus: { url: prom.url, timeoutMs: 5_000 },
        alertmanager: { url: am.url, timeoutMs: 5_000 },
        alertResolved: { timeoutSeconds: 60, pollIntervalSeconds: 0.2 },
        http: { allowedUrlPrefixes: [], timeoutMs: 1_000, maxBodyBytes: 1024 },
      };
      action = createVerifyActions({ config, resolved: hub }).find((a) => a.name === 'verify.alertResolved')!;
      await everyServiceFiring();
    }, 60_000);

    afterAll(async () => {
      await prom?.stop();
      await am?.stop();
      await webhook?.close();
      await target?.close();
    });

    async function everyServiceFiring(): Promise<void> {
      const amClient = new AlertmanagerClient({ url: am.url, timeoutMs: 5_000 });
      const promClient = new PrometheusClient({ url: prom.url, timeoutMs: 5_000 });
      await eventually(async () => {
        const inAm = await amClient.listAlerts({ filter: equalityMatchers({ alertname: 'HighErrorRate' }) });
        const inProm = await promClient.query('ALERTS{alertname="HighErrorRate",alertstate="firing"}');
        const notified = webhook.requests.length > 0;
        return inAm.length === SERVICES.length && inProm.samples.length === SERVICES.length && notified;
      }, 'every service firing in Prometheus, Alertmanager and the webhook');
    }

    async function verifyAfterFix(service: string, params: Record<string, unknown>) {
      const parsed = action.params.parse({ alertname: 'HighErrorRate', labels: { service }, ...params });
      const running = action.run(parsed, testContext());
      target.set(`rebound_test_fault{service="${service}"}`, 0);
      return (await running).output as {
        resolved: boolean;
        source: string;
        at: string;
        checks: { source: string; outcome: string }[];
      };
    }

    it('decides by the resolved webhook, at the alert endsAt', async () => {
      const out = await verifyAfterFix('webhook', { sources: ['webhook'] });
      expect(out).toMatchObject({ resolved: true, source: 'webhook' });
      const resolvedAlert = webhook
        .jsonBodies()
        .flatMap(
          (b) =>
            (b as { alerts: { status: string; labels: Record<string, string>; endsAt: string }[] }).alerts,
        )
        .find((a) => a.status === 'resolved' && a.labels['service'] === 'webhook');
      expect(out.at).toBe(new Date(resolvedAlert!.endsAt).toISOString());
    });

    it('decides by Alertmanager API v2 polling', async () => {
      const out = await verifyAfterFix('alertmanager', { sources: ['alertmanager'] });
      expect(out).toMatchObject({ resolved: true, source: 'alertmanager' });
      expect(out.checks.at(-1)).toMatchObject({ source: 'alertmanager', outcome: 'resolved' });
      expect(out.checks.every((c) => c.source === 'alertmanager')).toBe(true);
    });

    it('decides by the Prometheus ALERTS query and /api/v1/alerts', async () => {
      const out = await verifyAfterFix('prometheus', { sources: ['prometheus'] });
      expect(out).toMatchObject({ resolved: true, source: 'prometheus' });
      expect(out.checks.at(-1)).toMatchObject({ source: 'prometheus', outcome: 'resolved' });
    });

    it('takes whichever source says resolved first', async () => {
      const out = await verifyAfterFix('race', {});
      expect(out.resolved).toBe(true);
      expect(['webhook', 'alertmanager', 'prometheus']).toContain(out.source);
      expect(out.checks.some((c) => c.outcome === 'firing')).toBe(true);
    });

    it('fails with Rebound.VerificationFailed when the alert still fires at the deadline', async () => {
      const parsed = action.params.parse({
        alertname: 'HighErrorRate',
        labels: { service: 'deadline' },
        timeoutSeconds: 1,
      });
      const err = await rejection(action.run(parsed, testContext()));
      expect(err).toBeInstanceOf(VerificationFailedError);
      expect(err.name).toBe('Rebound.VerificationFailed');
      expect(err.message).toContain('HighErrorRate{service="deadline"}');
      const details = (err as VerificationFailedError).details as {
        pending: unknown[];
        checks: { source: string; outcome: string }[];
      };
      expect(details.pending).toEqual([{ alertname: 'HighErrorRate', labels: { service: 'deadline' } }]);
      expect(new Set(details.checks.map((c) => `${c.source}:${c.outcome}`))).toEqual(
        new Set(['alertmanager:firing', 'prometheus:firing']),
      );
      expect(hub.waiting).toBe(0);
    });
  },
);
