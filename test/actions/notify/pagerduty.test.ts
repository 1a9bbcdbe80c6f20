import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PagerDutyNotifier } from '../../../src/actions/notify/pagerduty.ts';
import { IntegrationError } from '../../../src/integrations/errors.ts';
import type { HttpRecorder } from '../../support/receivers/http-recorder.ts';
import { startPagerDutyReceiver } from '../../support/receivers/pagerduty.ts';
import { remediated, ROUTING_KEY } from './fixtures.ts';

describe('PagerDutyNotifier (Events API v2)', () => {
  let pd: HttpRecorder;
  let notifier: PagerDutyNotifier;

  beforeEach(async () => {
    pd = await startPagerDutyReceiver();
    notifier = new PagerDutyNotifier({
      routingKey: ROUTING_KEY,
      url: pd.url,
      source: 'rebound',
      timeoutMs: 2_000,
    });
  });
  afterEach(() => pd.close());

  it('triggers with the incident id as dedup_key, exactly', async () => {
    const delivery = await notifier.send(
      remediated({ event: 'escalated', severity: 'critical', status: 'escalated' }),
    );
    expect(delivery.reference).toBe('inc-01JABCDEF');
    expect(pd.requests[0]!.path).toBe('/v2/enqueue');
    expect(JSON.parse(pd.requests[0]!.body)).toEqual({
      routing_key: ROUTING_KEY,
      dedup_key: 'inc-01JABCDEF',
      event_action: 'trigger',
      payload: {
        summary: '[CRITICAL] HighErrorRate on checkout',
        source: 'checkout',
        severity: 'critical',
        timestamp: '2024-05-01T12:00:00Z',
        component: 'checkout',
        group: 'shop',
        class: 'HighErrorRate',
        custom_details: {
          incident: 'inc-01JABCDEF',
          event: 'escalated',
          status: 'escalated',
          description: 'Error ratio 7.2% > 5% for 2m',
          actions: [
            { name: 'config.set degraded-mode=on', outcome: 'succeeded' },
            { name: 'k8s.restart deployment/checkout', outcome: 'succeeded', detail: '3/3 ready in 41s' },
          ],
          result: 'verified: alert resolved (webhook) 52 s after the restart',
          labels: { alertname: 'HighErrorRate', service: 'checkout', severity: 'warning' },
        },
      },
      links: [
        { href: 'https://rebound.example.org/incidents/inc-01JABCDEF', text: 'Incident' },
        { href: 'https://grafana.example.org/d/checkout', text: 'Dashboard' },
        { href: 'https://prometheus.example.org/graph?g0.expr=x', text: 'Prometheus' },
        { href: 'https://rebound.example.org/runbooks/high-error-rate', text: 'Runbook' },
      ],
      client: 'Rebound',
      client_url: 'https://rebound.example.org/incidents/inc-01JABCDEF',
    });
    expect(JSON.stringify(delivery.request)).not.toContain(ROUTING_KEY);
  });

  it('acknowledges and resolves the same dedup_key', async () => {
    await notifier.send(remediated({ event: 'acknowledged' }));
    await notifier.send(remediated({ event: 'resolved' }));
    expect(pd.jsonBodies()).toEqual([
      { routing_key: ROUTING_KEY, dedup_key: 'inc-01JABCDEF', event_action: 'acknowledge' },
      { routing_key: ROUTING_KEY, dedup_key: 'inc-01JABCDEF', event_action: 'resolve' },
    ]);
  });

  it('keeps summary within 1024 and maps severities', async () => {
    await notifier.send(
      remediated({ title: 'y'.repeat(1024), severity: 'LOW', service: undefined, cluster: undefined }),
    );
    const payload = (pd.jsonBodies()[0] as { payload: { summary: string; severity: string; source: string } })
      .payload;
    expect(payload.summary).toHaveLength(1024);
    expect(payload.severity).toBe('info');
    expect(payload.source).toBe('rebound');
    expect(pd.requests).toHaveLength(1); // the receiver validated it: 202
  });

  it('treats 400 as permanent and 429/5xx as retryable', async () => {
    const bad = new PagerDutyNotifier({
      routingKey: 'short',
      url: pd.url,
      source: 'rebound',
      timeoutMs: 2_000,
    });
    const err = await bad.send(remediated()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrationError);
    expect(err).toMatchObject({ service: 'pagerduty', status: 400, retryable: false });
    expect((err as Error).message).toContain("'routing_key' is invalid");

    pd.script(
      {
        status: 429,
        body: { status: 'throttle event', message: 'Requests for this service are arriving too quickly.' },
      },
      { status: 503, body: '' },
    );
    expect(await notifier.send(remediated()).catch((e: unknown) => e)).toMatchObject({
      status: 429,
      retryable: true,
    });
    expect(await notifier.send(remediated()).catch((e: unknown) => e)).toMatchObject({
      status: 503,
      retryable: true,
    });
  });
});
