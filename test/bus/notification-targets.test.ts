import { afterEach, describe, expect, it } from 'vitest';
import { routingConfigSchema } from '../../src/actions/notify/config.ts';
import { defaultRules, escalationFollowUpRule, pagedSeverities } from '../../src/bus/config.ts';
import { fromLifecycleEvent, notificationTarget } from '../../src/bus/targets/notification.ts';
import { DeliveryError } from '../../src/bus/targets/target.ts';
import { parseConfig } from '../../src/config/load.ts';
import { IntegrationError } from '../../src/integrations/errors.ts';
import { eventually } from '../support/http-receiver.ts';
import { ingest, makeTestApp, tempDir, webhook, type TestApp } from '../support/app.ts';
import { createApp } from '../../src/app.ts';
import { tickEvent } from '../support/events.ts';
import type { HttpRecorder } from '../support/receivers/http-recorder.ts';
import { startPagerDutyReceiver } from '../support/receivers/pagerduty.ts';
import { slackAnswers, startSlackReceiver } from '../support/receivers/slack.ts';
import { SmtpReceiver } from '../support/receivers/smtp.ts';

const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
const ALERT = {
  alertname: 'CheckoutHighErrorRatio',
  namespace: 'shop',
  service: 'checkout',
  severity: 'critical',
};
const FAST_RETRY = { baseDelayMs: 1, maxDelayMs: 5 };

let t: TestApp | undefined;
let pagerduty: HttpRecorder | undefined;
let slack: HttpRecorder | undefined;
afterEach(async () => {
  await t?.close();
  await pagerduty?.close();
  await slack?.close();
  t = pagerduty = slack = undefined;
});

/** Alerts open incidents; escalated incidents are followed up on PagerDuty and Slack; no runbook runs. */
async function start(
  extraRules: object[] = [],
  pagedSeverities: string[] = [],
  notify: { attempts?: number } = {},
) {
  pagerduty = await startPagerDutyReceiver();
  slack = await startSlackReceiver();
  const followUp = (channel: 'slack' | 'pagerduty') => {
    const rule = escalationFollowUpRule(channel, pagedSeverities);
    return { ...rule, targets: rule.targets.map((target) => ({ ...target, retry: FAST_RETRY })) };
  };
  t = await makeTestApp({
    notify: {
      ...notify,
      pagerduty: { routingKey: ROUTING_KEY, url: pagerduty.url },
      slack: { webhookUrl: `${slack.url}/services/T0/B0/x` },
    },
    bus: {
      rules: [
        {
          name: 'alerts-to-incidents',
          pattern: { source: ['rebound.alertmanager'] },
          targets: [{ kind: 'incidents', id: 'incidents' }],
        },
        followUp('pagerduty'),
        followUp('slack'),
        ...extraRules,
      ],
    },
  } as never);
}

async function openIncident(): Promise<string> {
  await ingest(t!.app, webhook([{ labels: ALERT }]));
  const [incident] = (await t!.app.incidents.list({ limit: 10 })).items;
  return incident!.id;
}

async function escalate(id: string) {
  await t!.app.incidents.setStatus(id, 'escalated', {
    actor: 'runbook:test',
    kind: 'status.changed',
    description: 'verification failed',
  });
}

async function deadLetters(): Promise<{ target: string; error: string; attempts: number }[]> {
  const res = await t!.app.http.inject({ method: 'GET', url: '/v1/dlq' });
  expect(res.statusCode).toBe(200);
  return (res.json() as { items: { target: string; error: string; attempts: number }[] }).items;
}

/** The context of an `incident.*` action run by hand (not by a runbook). */
const byHand = (idempotencyKey: string) => ({
  idempotencyKey,
  shadow: false,
  signal: new AbortController().signal,
  now: () => new Date(),
});

const pagerDutyEvents = () => pagerduty!.jsonBodies() as Record<string, unknown>[];

describe('notification targets on the bus', () => {
  it('acknowledges and resolves the page of an escalated incident on PagerDuty, and tells Slack', async () => {
    await start();
    const id = await openIncident();
    await escalate(id);
    await t!.app.incidents.acknowledge(id, 'user:ann', 'looking');
    await eventually(() => pagerDutyEvents().length === 1 && slack!.requests.length === 1);
    await ingest(t!.app, webhook([{ labels: ALERT, status: 'resolved' }]));
    await eventually(() => pagerDutyEvents().length === 2 && slack!.requests.length === 2);

    expect(pagerDutyEvents()).toEqual([
      { routing_key: ROUTING_KEY, event_action: 'acknowledge', dedup_key: id },
      { routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: id },
    ]);
    const texts = slack!.jsonBodies().map((body) => (body as { text: string }).text);
    expect(texts[0]).toMatch(/acknowledged/i);
    expect(texts[1]).toMatch(/resolved/i);
    expect(await deadLetters()).toEqual([]);
  });

  it('leaves incidents that were never escalated alone', async () => {
    await start();
    const id = await openIncident();
    await t!.app.incidents.acknowledge(id, 'user:ann');
    await t!.app.incidents.resolve(id, 'user:ann');
    await t!.app.settle();
    expect(pagerduty!.requests).toEqual([]);
    expect(slack!.requests).toEqual([]);
  });

  it('resolves the page of an incident of a paged severity that resolves without being escalated', async () => {
    // Critical routes to PagerDuty: its runbook announced it there when it started.
    await start([], ['critical']);
    const id = await openIncident();
    await ingest(t!.app, webhook([{ labels: ALERT, status: 'resolved' }]));
    await eventually(() => pagerDutyEvents().length === 1);
    expect(pagerDutyEvents()).toEqual([{ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: id }]);
    await t!.app.settle();
    expect(slack!.requests).toEqual([]); // Slack hears only of escalated incidents
  });

  it('follows up the severities severity routing sends to PagerDuty, by default', () => {
    const routing = routingConfigSchema.parse({});
    expect(pagedSeverities(routing)).toEqual(['critical']);
    const rules = defaultRules({ slack: true, pagerduty: true }, routing);
    const undelivered = (channel: string) => ({
      'detail-type': ['Notification Undelivered'],
      detail: { channel: [channel] },
    });
    expect(rules.find((r) => r.name === 'escalations-followup.pagerduty')?.pattern).toEqual({
      source: ['rebound.incidents'],
      $or: [
        {
          'detail-type': ['Incident Acknowledged', 'Incident Resolved'],
          detail: { $or: [{ escalatedAt: [{ exists: true }] }, { severity: ['critical'] }] },
        },
        undelivered('pagerduty'),
      ],
    });
    // Slack is told of escalated incidents only; when every severity pages, every incident is followed up.
    expect(rules.find((r) => r.name === 'escalations-followup.slack')?.pattern['$or']).toEqual([
      {
        'detail-type': ['Incident Acknowledged', 'Incident Resolved'],
        detail: { escalatedAt: [{ exists: true }] },
      },
      undelivered('slack'),
    ]);
    const everything = routingConfigSchema.parse({ unknown: { remediate: false, channels: ['pagerduty'] } });
    expect(pagedSeverities(everything)).toBe('all');
    expect(escalationFollowUpRule('pagerduty', 'all').pattern['$or']).toEqual([
      { 'detail-type': ['Incident Acknowledged', 'Incident Resolved'] },
      undelivered('pagerduty'),
    ]);
  });

  it('sends again what an escalation could not deliver, before the resolution that follows it', async () => {
    await start();
    const id = await openIncident();
    // PagerDuty answers 503 to the action's three attempts and to the bus's first one, then recovers.
    const unavailable = { status: 503, body: { status: 'error', message: 'unavailable' } };
    pagerduty!.script(unavailable, unavailable, unavailable, unavailable);
    const escalated = await t!.app.actions.run(
      'incident.escalate',
      { incidentId: id, reason: 'disk full' },
      byHand('esc-1'),
    );
    expect(escalated.output).toMatchObject({
      notifications: [
        { channel: 'pagerduty', delivered: false },
        { channel: 'slack', delivered: true },
      ],
    });
    await t!.app.incidents.resolve(id, 'user:ann');
    await eventually(() => pagerDutyEvents().some((e) => e['event_action'] === 'resolve'));
    await t!.app.settle();
    // The page was delivered by the bus, and the resolve came after it: the page does not stay open.
    expect(pagerDutyEvents().map((e) => e['event_action'])).toEqual([
      'trigger',
      'trigger',
      'trigger',
      'trigger',
      'trigger',
      'resolve',
    ]);
    const { timeline } = await t!.app.incidents.get(id);
    expect(timeline.map((e) => e.description)).toContainEqual(
      expect.stringMatching(/^Escalation: pagerduty not delivered: .*503/),
    );
    expect(await deadLetters()).toEqual([]);
  });

  it('sends again an e-mail a runbook could not deliver, through the default rules', async () => {
    const smtp = await SmtpReceiver.start();
    try {
      // The default rules (no bus.rules): e-mail configured adds the resend rule.
      t = await makeTestApp({
        notify: {
          attempts: 1,
          routing: { severities: { critical: { remediate: false, channels: ['email'] } } },
          email: {
            host: '127.0.0.1',
            port: smtp.port,
            from: 'rebound@example.org',
            to: ['oncall@example.org'],
          },
        },
      } as never);
      expect(t.app.config.bus.rules.map((r) => r.name)).toContain('notifications-resend.email');
      const id = await openIncident();
      // The incident's runbook (unknown-alert: notify only) sends its own e-mail first; wait until it is done.
      await eventually(() => smtp.mails.length === 1, 10_000);
      await eventually(
        async () => (await t!.app.engine.list({ status: 'RUNNING', limit: 10 })).items.length === 0,
      );
      smtp.rejectNext(451, 'try again later');
      const told = await t.app.actions.run(
        'incident.notify',
        { incidentId: id, event: 'updated', description: 'disk full' },
        byHand('notify-mail'),
      );
      expect(told.output).toMatchObject({ notifications: [{ channel: 'email', delivered: false }] });
      await eventually(() => smtp.mails.length === 2, 10_000);
      expect(smtp.mails[1]!.text).toContain('disk full');
      await t.app.settle();
      expect(await deadLetters()).toEqual([]);
    } finally {
      await smtp.close();
    }
  });

  it('does not send a failed page again once the incident resolved while it was being sent', async () => {
    await start([], [], { attempts: 1 });
    const id = await openIncident();
    pagerduty!.script({ status: 503, body: { status: 'error', message: 'unavailable' }, delayMs: 300 });
    const escalating = t!.app.actions.run(
      'incident.escalate',
      { incidentId: id, reason: 'disk full' },
      byHand('esc-2'),
    );
    await eventually(() => pagerduty!.requests.length >= 1);
    await t!.app.incidents.resolve(id, 'user:ann'); // its alert resolved while PagerDuty was failing
    await escalating;
    await t!.app.settle();
    // The resolve went out; the failed trigger is not handed to the bus, which would send it after the
    // resolve and reopen the page.
    expect(pagerDutyEvents().map((e) => e['event_action'])).toEqual(['trigger', 'resolve']);
    const undelivered = (await t!.app.events.listEvents({ limit: 50 })).items.filter(
      (e) => e.envelope['detail-type'] === 'Notification Undelivered',
    );
    expect(undelivered).toEqual([]);
  });

  it('retries a failed send under the target retry policy, then delivers once', async () => {
    await start();
    const id = await openIncident();
    await escalate(id);
    pagerduty!.script({ status: 500, body: { status: 'error' } }, { status: 500, body: { status: 'error' } });
    slack!.script(slackAnswers.rateLimited(0));
    await t!.app.incidents.resolve(id, 'user:ann', 'fixed by hand');
    await eventually(() => pagerDutyEvents().length === 3 && slack!.requests.length === 2);
    await t!.app.settle();
    expect(pagerDutyEvents().map((e) => e['event_action'])).toEqual(['resolve', 'resolve', 'resolve']);
    expect(await deadLetters()).toEqual([]);
  });

  it('dead-letters a send the channel refuses, with its error, without retrying', async () => {
    await start();
    const id = await openIncident();
    await escalate(id);
    slack!.script(slackAnswers.invalidPayload);
    await t!.app.incidents.resolve(id, 'user:ann');
    await eventually(async () => (await deadLetters()).length === 1);
    const [letter] = await deadLetters();
    expect(letter).toMatchObject({ target: 'escalations-followup.slack/slack', attempts: 1 });
    expect(letter!.error).toMatch(/slack: .*400/);
    expect(slack!.requests).toHaveLength(1);
    expect(pagerDutyEvents()).toHaveLength(1); // the other channel is independent
  });

  it('sends the notification an input builds, and dead-letters an input that is not one', async () => {
    await start([
      {
        name: 'alerts-to-slack',
        pattern: { source: ['rebound.alertmanager'] },
        targets: [
          {
            kind: 'slack',
            id: 'built',
            input: {
              InputTransformer: {
                InputPathsMap: { name: '$.detail.labels.alertname', fp: '$.detail.fingerprint' },
                InputTemplate: '{"incidentId": "alert-<fp>", "event": "opened", "title": "Firing: <name>"}',
              },
            },
          },
          { kind: 'slack', id: 'broken', input: { Input: '{"title": "no incident id"}' } },
        ],
      },
    ]);
    await ingest(t!.app, webhook([{ labels: ALERT }]));
    await eventually(async () => slack!.requests.length === 1 && (await deadLetters()).length === 1);
    expect((slack!.jsonBodies()[0] as { text: string }).text).toContain('Firing: CheckoutHighErrorRatio');
    const [letter] = await deadLetters();
    expect(letter).toMatchObject({ target: 'alerts-to-slack/broken', attempts: 1 });
    expect(letter!.error).toMatch(/input is not a notification \(incidentId: /);
  });
});

describe('notificationTarget', () => {
  const item = (event = tickEvent(1)) => ({
    delivery: { rule: 'r', target: 'r/t' } as never,
    event,
    input: { value: event.envelope, body: JSON.stringify(event.envelope) },
  });
  const failing = (err: Error) => ({
    channel: 'pagerduty' as const,
    preview: () => ({}) as never,
    send: () => Promise.reject(err),
  });

  it('refuses an event that is not an incident lifecycle event, saying what it needs', async () => {
    const target = notificationTarget({
      notifier: failing(new Error('unused')),
      channel: 'pagerduty',
      transformed: false,
    });
    const err = await target.deliver!(item(), new AbortController().signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeliveryError);
    expect(err).toMatchObject({ retryable: false });
    expect((err as Error).message).toMatch(/reads incident lifecycle events .*give the target an input/);
  });

  it('passes on whether the channel says a retry can help, and when', async () => {
    for (const retryable of [true, false]) {
      const notifier = failing(
        new IntegrationError('HTTP 503', { service: 'pagerduty', kind: 'http', retryable, status: 503 }),
      );
      const target = notificationTarget({ notifier, channel: 'pagerduty', transformed: true });
      const value = { incidentId: 'i-1', title: 'x' };
      const err = await target.deliver!(
        { ...item(), input: { value, body: '' } },
        new AbortController().signal,
      ).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'DeliveryError', retryable, message: 'pagerduty: HTTP 503' });
    }
    // A rate limit's Retry-After reaches the bus, which waits at least that long before the next attempt.
    const limited = failing(
      new IntegrationError('HTTP 429', {
        service: 'slack',
        kind: 'http',
        retryable: true,
        retryAfterMs: 30_000,
      }),
    );
    const target = notificationTarget({ notifier: limited, channel: 'slack', transformed: true });
    const value = { incidentId: 'i-1', title: 'x' };
    const err = await target.deliver!(
      { ...item(), input: { value, body: '' } },
      new AbortController().signal,
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: true, retryAfterMs: 30_000 });
  });

  it("turns a lifecycle event into its move's notification, linking the incident's dashboard page", () => {
    const tick = tickEvent(2);
    const event = {
      ...tick,
      envelope: {
        ...tick.envelope,
        source: 'rebound.incidents',
        'detail-type': 'Incident Acknowledged',
        detail: {
          incidentId: 'inc 1',
          status: 'acknowledged',
          severity: 'critical',
          service: 'checkout',
          namespace: 'shop',
          cluster: null,
          labels: { alertname: 'CheckoutHighErrorRatio' },
          alertname: 'CheckoutHighErrorRatio',
          summary: 'Checkout errors',
          correlationId: 'c',
          reason: 'Acknowledged by user:ann',
          actor: 'user:ann',
          escalatedAt: '2026-11-26T04:00:00.000Z',
        },
      },
    };
    expect(
      fromLifecycleEvent(event, { channel: 'slack', publicUrl: 'https://rebound.example.org/' }),
    ).toEqual({
      incidentId: 'inc 1',
      event: 'acknowledged',
      title: 'Checkout errors',
      severity: 'critical',
      status: 'acknowledged',
      service: 'checkout',
      namespace: 'shop',
      labels: { alertname: 'CheckoutHighErrorRatio' },
      links: { incident: 'https://rebound.example.org/incidents/inc%201' },
      actions: [],
      result: 'Acknowledged by user:ann',
      occurredAt: tick.envelope.time,
    });
  });

  it('names a channel that was not configured at start', async () => {
    const target = notificationTarget({ notifier: undefined, channel: 'email', transformed: false });
    await expect(target.deliver!(item(), new AbortController().signal)).rejects.toMatchObject({
      retryable: false,
      message: expect.stringMatching(/email channel is not configured .*notify\.email/),
    });
  });
});

describe('notification targets in rebound.yaml', () => {
  it('refuses a target whose channel is not configured, naming where', () => {
    expect(() =>
      parseConfig({
        bus: {
          rules: [{ name: 'r', pattern: { source: ['x'] }, targets: [{ kind: 'email', id: 'mail' }] }],
        },
      }),
    ).toThrow(/bus\.rules\[0\]\.targets\[0\]\.kind.*notify\.email, which is not configured/);
  });

  it('refuses a reload whose rules need a channel the process started without, keeping the rules in force', async () => {
    const dir = tempDir();
    const base = {
      logging: { level: 'silent' },
      server: { listen: '127.0.0.1:0' },
      dataDir: dir.path,
    } as const;
    const app = createApp({
      config: parseConfig(base),
      // The file now configures PagerDuty: the default rules gain its follow-up, which needs a restart.
      reloadConfig: () =>
        Promise.resolve(parseConfig({ ...base, notify: { pagerduty: { routingKey: ROUTING_KEY } } })),
    });
    await app.start();
    try {
      const before = (await app.http.inject({ method: 'GET', url: '/v1/rules' })).json<unknown>();
      const res = await app.http.inject({ method: 'POST', url: '/v1/admin/reload' });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'INVALID_CONFIG' });
      expect(res.json<{ code: string; message: string }>().message).toMatch(
        /escalations-followup\.pagerduty\/pagerduty \(notify\.pagerduty\).*restart Rebound/,
      );
      expect((await app.http.inject({ method: 'GET', url: '/v1/rules' })).json<unknown>()).toEqual(before);
    } finally {
      await app.stop();
      dir.remove();
    }
  });

  it('follows up pages by default only on the channels configured', () => {
    const names = (config: object) => parseConfig(config).bus.rules.map((r) => r.name);
    expect(names({})).not.toContain('escalations-followup.pagerduty');
    const both = names({
      notify: {
        pagerduty: { routingKey: ROUTING_KEY },
        slack: { webhookUrl: 'https://hooks.slack.com/services/T0/B0/x' },
      },
    });
    expect(both).toEqual(
      expect.arrayContaining(['escalations-followup.pagerduty', 'escalations-followup.slack']),
    );
    expect(names({ bus: { rules: [] } })).toEqual([]);
  });
});
