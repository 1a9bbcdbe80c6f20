import { afterEach, describe as suite, expect, it } from 'vitest';
import { eventually } from '../support/http-receiver.ts';
import { SmtpReceiver } from '../support/receivers/smtp.ts';
import {
  alert,
  clusterWrites,
  describe,
  finishedExecution,
  pages,
  ROUTING_KEY,
  slackTexts,
  startHarness,
  waitForStatus,
  type Harness,
} from './harness.ts';

let h: Harness | undefined;
let smtp: SmtpReceiver | undefined;
afterEach(async () => {
  await h?.close();
  await smtp?.close();
  h = undefined;
  smtp = undefined;
});

suite('runbook unknown-alert (no runbook matches)', () => {
  it('records, notifies and escalates at once without acting', async () => {
    h = await startHarness();
    await alert(h, {
      alertname: 'MysteryQueueBacklog',
      severity: 'warning',
      namespace: 'shop',
      service: 'orders',
    });
    const execution = await finishedExecution(h);
    expect(execution).toMatchObject({ workflow: 'unknown-alert', status: 'SUCCEEDED' });
    const view = await waitForStatus(h, 'escalated');
    const id = view.incident.id;
    expect(clusterWrites(h)).toEqual([]);
    expect(pages(h)).toEqual([
      {
        routing_key: ROUTING_KEY,
        dedup_key: id,
        event_action: 'trigger',
        payload: {
          summary: '[WARNING] MysteryQueueBacklog on orders',
          source: 'orders',
          severity: 'warning',
          timestamp: expect.any(String),
          component: 'orders',
          group: 'shop',
          class: 'MysteryQueueBacklog',
          custom_details: {
            incident: id,
            event: 'escalated',
            status: 'escalated',
            description: 'no runbook matches alert MysteryQueueBacklog: a human decides',
            result: 'escalated: no runbook matches alert MysteryQueueBacklog: a human decides',
            labels: { alertname: 'MysteryQueueBacklog', namespace: 'shop', service: 'orders' },
          },
        },
        client: 'Rebound',
      },
    ]);
    await eventually(() => slackTexts(h!).length === 2);
    expect(slackTexts(h)).toEqual([
      ':rotating_light: Incident opened: [WARNING] MysteryQueueBacklog on orders — open',
      ':sos: Escalated to on-call: [WARNING] MysteryQueueBacklog on orders — escalated',
    ]);
    const story = describe(view);
    expect(story).toMatch(/comment runbook:unknown-alert: No runbook matches alert MysteryQueueBacklog/);
    expect(story).toMatch(/status.changed runbook:unknown-alert: Escalated to on-call: no runbook matches/);
    // Nothing was tried: no breaker outcome.
    expect((await h.t.app.http.inject({ url: '/v1/automation' })).json().breakers).toEqual([]);
  });

  it('pages nobody for a low-severity unknown alert: Slack only', async () => {
    h = await startHarness();
    await alert(h, { alertname: 'DiskAlmostFull', severity: 'low', instance: 'db-1' });
    expect(await finishedExecution(h)).toMatchObject({ workflow: 'unknown-alert', status: 'SUCCEEDED' });
    const view = await waitForStatus(h, 'open');
    expect(pages(h)).toEqual([]);
    expect(slackTexts(h)).toEqual([
      ':rotating_light: Incident opened: [INFO] DiskAlmostFull on something — open',
    ]);
    expect(describe(view)).toMatch(/nobody is paged at this severity/);
  });

  it('still escalates when notifications fail: a failed channel never blocks the runbook', async () => {
    h = await startHarness();
    // Refusals a retry cannot cure (a retryable failure is also handed to the bus to send again, which would
    // take the next scripted answers: notification-targets.test.ts covers that).
    h.pagerduty.script({
      status: 400,
      body: { status: 'invalid event', message: 'Event object is invalid' },
    });
    h.slack.script({ status: 400, body: 'invalid_payload' }, { status: 400, body: 'invalid_payload' });
    await alert(h, {
      alertname: 'MysteryQueueBacklog',
      severity: 'warning',
      namespace: 'shop',
      service: 'orders',
    });
    expect(await finishedExecution(h)).toMatchObject({ status: 'SUCCEEDED' });
    const view = await waitForStatus(h, 'escalated');
    expect(describe(view)).toMatch(
      /Escalation: pagerduty not delivered: .*400.*; slack not delivered: .*400/,
    );
  });

  it('mails the teams without Slack or PagerDuty when routing says so (SMTP)', async () => {
    smtp = await SmtpReceiver.start();
    h = await startHarness({
      notify: {
        routing: { severities: { warning: { remediate: true, channels: ['email'] } } },
        email: {
          host: '127.0.0.1',
          port: smtp.port,
          from: 'rebound@example.org',
          to: ['oncall@example.org'],
        },
        attempts: 1,
      },
    });
    await alert(h, {
      alertname: 'MysteryQueueBacklog',
      severity: 'warning',
      namespace: 'shop',
      service: 'orders',
    });
    expect(await finishedExecution(h)).toMatchObject({ status: 'SUCCEEDED' });
    const view = await waitForStatus(h, 'escalated');
    await eventually(() => smtp!.mails.length === 1);
    const [mail] = smtp.mails;
    expect(mail!.to).toEqual(['oncall@example.org']);
    expect(mail!.headers.get('subject')).toBe(
      '[Rebound][WARNING] Incident opened: MysteryQueueBacklog on orders',
    );
    expect(mail!.headers.get('x-rebound-incident')).toBe(view.incident.id);
    expect(mail!.text).toContain('No runbook matches this alert; escalating to on-call.');
    // Escalation goes to PagerDuty and Slack, neither configured here: reported, not fatal.
    expect(describe(view)).toMatch(/Escalation: pagerduty not delivered: pagerduty is not configured/);
  });
});
