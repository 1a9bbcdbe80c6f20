import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { notifyConfigSchema } from '../../../src/actions/notify/config.ts';
import { createNotifiers, sendBySeverity } from '../../../src/actions/notify/index.ts';
import type { HttpRecorder } from '../../support/receivers/http-recorder.ts';
import { startPagerDutyReceiver } from '../../support/receivers/pagerduty.ts';
import { slackAnswers, startSlackReceiver } from '../../support/receivers/slack.ts';
import { remediated, ROUTING_KEY, WEBHOOK_SECRET } from './fixtures.ts';

describe('sendBySeverity', () => {
  let slack: HttpRecorder;
  let pd: HttpRecorder;
  let config: ReturnType<typeof notifyConfigSchema.parse>;

  beforeEach(async () => {
    slack = await startSlackReceiver();
    pd = await startPagerDutyReceiver();
    config = notifyConfigSchema.parse({
      routing: {
        severities: {
          critical: { remediate: true, channels: ['pagerduty', 'slack', 'email'] },
          warning: { remediate: true, channels: ['slack'] },
        },
      },
      slack: { webhookUrl: `${slack.url}/services/SECRETPATH` },
      pagerduty: { routingKey: ROUTING_KEY, url: pd.url },
      webhook: { url: `${slack.url}/hook`, secret: WEBHOOK_SECRET },
    });
  });
  afterEach(async () => {
    await slack.close();
    await pd.close();
  });

  it('sends to the routed channels only, and one failure does not stop the others', async () => {
    slack.script(slackAnswers.serverError);
    const { route, outcomes } = await sendBySeverity(
      remediated({ severity: 'critical' }),
      config.routing,
      createNotifiers(config),
    );
    expect(route).toEqual({
      matched: 'critical',
      remediate: true,
      channels: ['pagerduty', 'slack', 'email'],
    });
    expect(outcomes).toEqual([
      { channel: 'pagerduty', delivered: true, reference: 'inc-01JABCDEF' },
      {
        channel: 'slack',
        delivered: false,
        error: { message: expect.stringContaining('HTTP 500') as string, retryable: true },
      },
      { channel: 'email', delivered: false, error: { message: 'email is not configured', retryable: false } },
    ]);
    expect(pd.requests).toHaveLength(1);
    await sendBySeverity(remediated({ severity: 'warning' }), config.routing, createNotifiers(config));
    expect(pd.requests).toHaveLength(1);
    expect(slack.requests).toHaveLength(2);
  });

  it('keeps secrets out of inspect and JSON of the notifiers', () => {
    const notifiers = createNotifiers(config);
    const text = inspect(notifiers, { depth: 10 }) + JSON.stringify(notifiers);
    for (const secret of ['SECRETPATH', ROUTING_KEY, WEBHOOK_SECRET]) expect(text).not.toContain(secret);
  });
});
