import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SlackNotifier } from '../../../src/actions/notify/slack.ts';
import { escapeMrkdwn } from '../../../src/integrations/slack/mrkdwn.ts';
import { IntegrationError } from '../../../src/integrations/errors.ts';
import type { HttpRecorder } from '../../support/receivers/http-recorder.ts';
import { slackAnswers, startSlackReceiver } from '../../support/receivers/slack.ts';
import { remediated } from './fixtures.ts';

describe('SlackNotifier', () => {
  let slack: HttpRecorder;
  let notifier: SlackNotifier;
  let webhookUrl: string;

  beforeEach(async () => {
    slack = await startSlackReceiver();
    webhookUrl = `${slack.url}/services/T000/B000/XXXXSECRETXXXX`;
    notifier = new SlackNotifier({ webhookUrl, timeoutMs: 2_000 });
  });
  afterEach(() => slack.close());

  it('posts the incident as Block Kit, exactly', async () => {
    const delivery = await notifier.send(remediated());
    expect(slack.requests).toHaveLength(1);
    const req = slack.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/services/T000/B000/XXXXSECRETXXXX');
    expect(req.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(req.body)).toEqual({
      text: ':hammer_and_wrench: Remediated: [WARNING] HighErrorRate on checkout — resolved',
      blocks: [
        {
          type: 'header',
          text: { type: 'plain_text', text: 'Remediated: [WARNING] HighErrorRate on checkout', emoji: true },
        },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: '*Severity*\nWARNING' },
            { type: 'mrkdwn', text: '*Status*\nresolved' },
            { type: 'mrkdwn', text: '*Service*\ncheckout' },
            { type: 'mrkdwn', text: '*Namespace*\nshop' },
            { type: 'mrkdwn', text: '*Cluster*\nprod-eu' },
            {
              type: 'mrkdwn',
              text: '*Incident*\n<https://rebound.example.org/incidents/inc-01JABCDEF|inc-01JABCDEF>',
            },
          ],
        },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: '*What Rebound did*\n:white_check_mark: `config.set degraded-mode=on`\n:white_check_mark: `k8s.restart deployment/checkout` — 3/3 ready in 41s',
          },
        },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: '*Result:* verified: alert resolved (webhook) 52 s after the restart',
          },
        },
        {
          type: 'context',
          elements: [
            {
              type: 'mrkdwn',
              text:
                '<https://grafana.example.org/d/checkout|Dashboard>  ·  <https://prometheus.example.org/graph?g0.expr=x|Prometheus>  ·  ' +
                '<https://rebound.example.org/runbooks/high-error-rate|Runbook>',
            },
          ],
        },
        {
          type: 'context',
          elements: [
            {
              type: 'mrkdwn',
              text: 'Rebound · inc-01JABCDEF · <!date^1714564800^{date_short_pretty} {time_secs}|2024-05-01T12:00:00Z>',
            },
          ],
        },
      ],
    });
    // The URL is the credential: the recorded write request does not carry it.
    expect(JSON.stringify(delivery.request)).not.toContain('SECRET');
    expect(delivery.request.path).toBe('slack:incoming-webhook');
  });

  it('includes the description when the incident opens, and escapes mrkdwn', async () => {
    await notifier.send(
      remediated({
        event: 'opened',
        description: 'p99 > 2s <for> 5m & rising',
        actions: [],
        result: undefined,
      }),
    );
    const blocks = (
      JSON.parse(slack.requests[0]!.body) as { blocks: { type: string; text?: { text: string } }[] }
    ).blocks;
    expect(blocks[0]!.text!.text).toBe('Incident opened: [WARNING] HighErrorRate on checkout');
    expect(blocks[2]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: 'p99 &gt; 2s &lt;for&gt; 5m &amp; rising' },
    });
    expect(escapeMrkdwn('<!channel>')).toBe('&lt;!channel&gt;');
  });

  it('escapes the fallback text too: an alert title cannot mention the channel there', async () => {
    await notifier.send(
      remediated({ event: 'opened', title: 'Disk full <!channel> & <https://evil.example|x>' }),
    );
    const { text, blocks } = JSON.parse(slack.requests[0]!.body) as {
      text: string;
      blocks: { text?: { text: string } }[];
    };
    expect(text).toContain('Disk full &lt;!channel&gt; &amp; &lt;https://evil.example|x&gt;');
    // The header block is plain_text: shown as written, so not escaped.
    expect(blocks[0]!.text!.text).toContain('Disk full <!channel> & <https://evil.example|x>');
  });

  it('links only http(s) URLs, and a URL cannot end its <url|label> early', async () => {
    expect(() => remediated({ links: { runbook: 'javascript:alert(1)' } })).toThrow();
    await notifier.send(remediated({ links: { runbook: 'https://wiki.example.org/run?x=1|<!channel>' } }));
    const body = slack.requests[0]!.body;
    expect(body).toContain('<https://wiki.example.org/run?x=1%7C%3C!channel%3E|Runbook>');
    expect(body).not.toContain('<!channel>');
  });

  it('keeps the header within Block Kit limits', async () => {
    await notifier.send(remediated({ title: 'x'.repeat(500) }));
    const header = (JSON.parse(slack.requests[0]!.body) as { blocks: { text: { text: string } }[] })
      .blocks[0]!.text.text;
    expect(header).toHaveLength(150);
    expect(header.endsWith('…')).toBe(true);
  });

  it('never cuts an emoji in half to fit a limit', async () => {
    // Both parities of where the cut falls: between two emoji, and inside one (the header's prefix before
    // the title is of fixed length).
    for (const title of ['🔥'.repeat(200), `x${'🔥'.repeat(200)}`]) {
      slack.requests.length = 0;
      await notifier.send(remediated({ title }));
      const header = (JSON.parse(slack.requests[0]!.body) as { blocks: { text: { text: string } }[] })
        .blocks[0]!.text.text;
      expect(Buffer.from(header).toString()).toBe(header); // UTF-8 has no half characters: one would change
      expect(header.length).toBeLessThanOrEqual(150);
      expect(header.length).toBeGreaterThanOrEqual(149);
      expect(header.endsWith('🔥…')).toBe(true);
    }
  });

  it.each([
    ['invalid_payload', slackAnswers.invalidPayload, 400, false],
    ['no_service', slackAnswers.noService, 404, false],
    ['rate limited', slackAnswers.rateLimited(30), 429, true],
    ['server error', slackAnswers.serverError, 500, true],
  ])('maps %s to a typed error', async (_name, answer, status, retryable) => {
    slack.script(answer);
    const err = await notifier.send(remediated()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrationError);
    expect(err).toMatchObject({ service: 'slack', status, retryable });
    if (status === 429) expect(err).toMatchObject({ retryAfterMs: 30_000 });
    expect(String((err as Error).message)).not.toContain('SECRET');
  });
});
