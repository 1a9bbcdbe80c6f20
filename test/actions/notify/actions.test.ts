import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createNotifyActions,
  NotificationFailedError,
  type NotifyOutput,
} from '../../../src/actions/notify/actions.ts';
import { notifyConfigSchema } from '../../../src/actions/notify/config.ts';
import { createNotifiers } from '../../../src/actions/notify/index.ts';
import type { ActionContext } from '../../../src/actions/types.ts';
import type { HttpRecorder } from '../../support/receivers/http-recorder.ts';
import { startPagerDutyReceiver } from '../../support/receivers/pagerduty.ts';
import { slackAnswers, startSlackReceiver } from '../../support/receivers/slack.ts';
import { remediated, ROUTING_KEY } from './fixtures.ts';

const ctx = (overrides: Partial<ActionContext> = {}): ActionContext => ({
  idempotencyKey: 'exec-1/Notify/0',
  shadow: false,
  signal: new AbortController().signal,
  now: () => new Date(),
  ...overrides,
});

describe('notify.* actions', () => {
  let slack: HttpRecorder;
  let pd: HttpRecorder;
  let waits: number[];
  let actions: ReturnType<typeof createNotifyActions>;

  beforeEach(async () => {
    slack = await startSlackReceiver();
    pd = await startPagerDutyReceiver();
    waits = [];
    const config = notifyConfigSchema.parse({
      slack: { webhookUrl: `${slack.url}/services/SECRET` },
      pagerduty: { routingKey: ROUTING_KEY, url: pd.url },
    });
    actions = createNotifyActions({
      notifiers: createNotifiers(config),
      retry: { attempts: config.attempts, sleep: async (ms) => void waits.push(ms), random: () => 0.5 },
    });
  });
  afterEach(async () => {
    await slack.close();
    await pd.close();
  });

  const action = (name: string) => actions.find((a) => a.name === name)!;
  const params = (overrides: Record<string, unknown> = {}) =>
    action('notify.slack').params.parse({ ...remediated(), ...overrides });

  it('exposes one read-only action per channel', () => {
    expect(actions.map((a) => [a.name, a.mutating])).toEqual([
      ['notify.slack', false],
      ['notify.pagerduty', false],
      ['notify.webhook', false],
      ['notify.email', false],
    ]);
  });

  it('delivers and records the write without the secret', async () => {
    const result = await action('notify.pagerduty').run(params({ event: 'escalated' }), ctx());
    expect(result.output).toEqual({ channel: 'pagerduty', delivered: true, reference: 'inc-01JABCDEF' });
    expect(result.writes).toHaveLength(1);
    expect(JSON.stringify(result.writes)).not.toContain(ROUTING_KEY);
  });

  it('retries 429 and 5xx with backoff, honouring Retry-After', async () => {
    slack.script(slackAnswers.rateLimited(7), slackAnswers.serverError);
    const result = await action('notify.slack').run(params(), ctx());
    expect(result.output.delivered).toBe(true);
    expect(slack.requests).toHaveLength(3);
    expect(waits).toEqual([7_000, 500]); // Retry-After wins over 250 ms; then 1000 ms × jitter 0.5
  });

  it('waits out a long Retry-After its retries can cover, and gives up at once on one they cannot', async () => {
    // 3 attempts, 30 s per retry left: 45 s is waited in full (not cut to 30 s, which earns another 429).
    slack.script(slackAnswers.rateLimited(45));
    expect((await action('notify.slack').run(params(), ctx())).output.delivered).toBe(true);
    expect(waits).toEqual([45_000]);
    // 120 s is more than the two retries left may wait: no early retry, the delivery fails, retryable.
    waits.length = 0;
    slack.script(slackAnswers.rateLimited(120));
    const result = await action('notify.slack').run(params(), ctx());
    expect(result.output).toMatchObject({ delivered: false, error: { status: 429, retryable: true } });
    expect(slack.requests).toHaveLength(3);
    expect(waits).toEqual([]);
  });

  it('never blocks a remediation: a failed delivery is reported, not thrown', async () => {
    slack.script(slackAnswers.noService);
    const result = await action('notify.slack').run(params(), ctx());
    const output: NotifyOutput = result.output;
    expect(output).toMatchObject({
      channel: 'slack',
      delivered: false,
      error: { status: 404, retryable: false },
    });
    expect(slack.requests).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it('fails with Rebound.NotificationFailed when required', async () => {
    slack.script(slackAnswers.serverError, slackAnswers.serverError, slackAnswers.serverError);
    const err = await action('notify.slack')
      .run(params({ required: true }), ctx())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotificationFailedError);
    expect(err).toMatchObject({ name: 'Rebound.NotificationFailed', retryable: true });
    expect(slack.requests).toHaveLength(3);
  });

  it('records, without sending, in shadow mode', async () => {
    const result = await action('notify.slack').run(params(), ctx({ shadow: true }));
    expect(result.output).toEqual({ channel: 'slack', delivered: false, shadow: true });
    expect(result.writes[0]).toMatchObject({ method: 'POST', path: 'slack:incoming-webhook' });
    expect(slack.requests).toHaveLength(0);
  });

  it('says when a channel is not configured', async () => {
    const result = await action('notify.email').run(params(), ctx());
    expect(result.output).toMatchObject({
      delivered: false,
      error: { message: expect.stringContaining('not configured') },
    });
    await expect(action('notify.webhook').run(params({ required: true }), ctx())).rejects.toThrow(
      NotificationFailedError,
    );
  });
});
