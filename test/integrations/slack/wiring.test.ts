import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  postApprovalRequest,
  slackAppConfigSchema,
  slackInteractionHandler,
  slackSignature,
} from '../../../src/integrations/slack/index.ts';
import type { HttpRecorder } from '../../support/receivers/http-recorder.ts';
import { startSlackReceiver } from '../../support/receivers/slack.ts';

const SECRET = 'slack-signing-secret-for-tests-0002';

describe('Slack wiring from config', () => {
  let slack: HttpRecorder;

  beforeEach(async () => {
    slack = await startSlackReceiver();
  });
  afterEach(() => slack.close());

  it('posts an approval request, then a click on it decides and updates the message', async () => {
    const config = slackAppConfigSchema.parse({
      signingSecret: SECRET,
      allowedUsers: ['U0ANA'],
      approvalWebhookUrl: `${slack.url}/services/APPROVALS`,
      responseUrlPrefixes: [`${slack.url}/actions/`],
    });
    await postApprovalRequest(config, {
      approvalId: 'apr-1',
      incidentId: 'inc-1',
      title: 'Crash loop',
      severity: 'critical',
      proposed: 'roll back deployment/api',
    });
    const posted = JSON.parse(slack.requests[0]!.body) as {
      blocks: { type: string; elements?: { action_id: string; value: string }[] }[];
    };
    const button = posted.blocks.find((b) => b.type === 'actions')!.elements![0]!;

    const decided: string[] = [];
    const handle = slackInteractionHandler(
      config,
      async (id, decision, user) => void decided.push(`${id}:${decision}:${user.id}`),
    );
    const payload = {
      type: 'block_actions',
      user: { id: 'U0ANA' },
      response_url: `${slack.url}/actions/1`,
      message: { blocks: posted.blocks },
      actions: [{ action_id: button.action_id, value: button.value }],
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const ts = String(Math.floor(Date.now() / 1000));
    const response = handle(Buffer.from(body), {
      'x-slack-request-timestamp': ts,
      'x-slack-signature': slackSignature(SECRET, ts, body),
    });
    expect(response.status).toBe(200);
    await response.done;
    expect(decided).toEqual(['apr-1:approve:U0ANA']);
    expect(slack.requests.map((r) => r.path)).toEqual(['/services/APPROVALS', '/actions/1']);
  });

  it('says when no approval webhook is configured', async () => {
    const config = slackAppConfigSchema.parse({ signingSecret: SECRET });
    await expect(
      postApprovalRequest(config, {
        approvalId: 'a',
        incidentId: 'i',
        title: 't',
        severity: 's',
        proposed: 'p',
      }),
    ).rejects.toThrow(/approvalWebhookUrl/);
  });
});
