import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  APPROVAL_ACTIONS,
  buildApprovalMessage,
  type ApprovalDecision,
} from '../../../src/integrations/slack/approval-message.ts';
import {
  handleSlackInteraction,
  type DecideOutcome,
  type SlackInteractionDeps,
  type SlackUser,
} from '../../../src/integrations/slack/handler.ts';
import { parseInteraction } from '../../../src/integrations/slack/interaction.ts';
import { slackSignature } from '../../../src/integrations/slack/signature.ts';
import type { HttpRecorder } from '../../support/receivers/http-recorder.ts';
import { startSlackReceiver } from '../../support/receivers/slack.ts';

const SECRET = 'slack-signing-secret-for-tests-0001';
const NOW = new Date('2024-05-01T12:00:00Z');
const NOW_S = String(NOW.getTime() / 1000);

const request = {
  approvalId: 'apr-42',
  incidentId: 'inc-7',
  title: 'HighErrorRate on checkout',
  severity: 'critical',
  proposed: 'rollout restart deployment/checkout in shop',
  service: 'checkout',
  runbook: 'high-error-rate',
  expiresAt: new Date('2024-05-01T12:15:00Z'),
  onTimeout: 'escalate to PagerDuty',
};

/** A block_actions payload shaped like the ones Slack sends for a button click. */
function click(decision: ApprovalDecision, responseUrl: string, userId = 'U0APPROVER', value = 'apr-42') {
  const message = buildApprovalMessage(request);
  return {
    type: 'block_actions',
    user: { id: userId, username: 'ana', name: 'ana', team_id: 'T0TEAM' },
    api_app_id: 'A0APP',
    token: 'legacy-verification-token',
    container: { type: 'message', message_ts: '1714564800.000100', channel_id: 'C0OPS', is_ephemeral: false },
    trigger_id: '123.456.abc',
    team: { id: 'T0TEAM', domain: 'example' },
    channel: { id: 'C0OPS', name: 'ops' },
    message: { type: 'message', ts: '1714564800.000100', text: message.text, blocks: message.blocks },
    response_url: responseUrl,
    actions: [
      {
        type: 'button',
        action_id: APPROVAL_ACTIONS[decision],
        block_id: 'rebound.approval',
        value,
        action_ts: '1714564801.1',
      },
    ],
  };
}

function signed(payload: unknown, timestamp = NOW_S) {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  return {
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': slackSignature(SECRET, timestamp, body),
    },
  };
}

describe('Slack approvals', () => {
  let slack: HttpRecorder;
  let decisions: [string, ApprovalDecision, SlackUser][];
  let errors: unknown[];
  let deps: SlackInteractionDeps;

  beforeEach(async () => {
    slack = await startSlackReceiver();
    decisions = [];
    errors = [];
    deps = {
      signingSecret: SECRET,
      allowedUsers: ['U0APPROVER'],
      teamId: 'T0TEAM',
      responseUrlPrefixes: [`${slack.url}/actions/`],
      now: () => NOW,
      decide: async (id, decision, user) => void decisions.push([id, decision, user]),
      onError: (err) => errors.push(err),
    };
  });
  afterEach(() => slack.close());

  it('builds the approval message with the three buttons carrying the approval id', () => {
    const message = buildApprovalMessage(request);
    const actions = message.blocks!.at(-1) as {
      type: string;
      block_id: string;
      elements: { action_id: string; text: { text: string }; value: string }[];
    };
    expect(actions.type).toBe('actions');
    expect(actions.elements.map((e) => [e.action_id, e.text.text, e.value])).toEqual([
      ['rebound.approval.approve', 'Remediate now', 'apr-42'],
      ['rebound.approval.skip', 'Skip', 'apr-42'],
      ['rebound.approval.snooze', 'Snooze 10m', 'apr-42'],
    ]);
    expect(message.blocks![0]).toEqual({
      type: 'header',
      text: {
        type: 'plain_text',
        text: 'Approval needed: [CRITICAL] HighErrorRate on checkout',
        emoji: true,
      },
    });
    expect(JSON.stringify(message.blocks)).toContain(
      'No answer by <!date^1714565700^{date_short_pretty} {time}|2024-05-01T12:15:00.000Z>? Rebound will escalate to PagerDuty.',
    );
  });

  it('escapes the fallback text, which is mrkdwn: a title or proposal from alert data mentions nobody', () => {
    const message = buildApprovalMessage({
      ...request,
      title: 'Crash <!channel>',
      proposed: 'restart <https://evil.example|x>',
    });
    expect(message.text).toBe(
      ':raising_hand: Approval needed: [CRITICAL] Crash &lt;!channel&gt; — restart &lt;https://evil.example|x&gt;',
    );
  });

  it('cuts a long header to the Block Kit limit of 150 without splitting an emoji', () => {
    // 'Approval needed: [CRITICAL] ' is 28 units: the 149-unit cut falls inside the 61st emoji.
    const message = buildApprovalMessage({ ...request, title: '🔥'.repeat(100) });
    const header = (message.blocks![0] as { text: { text: string } }).text.text;
    expect(header).toBe(`Approval needed: [CRITICAL] ${'🔥'.repeat(60)}…`);
  });

  it('parses a block_actions click into a decision', () => {
    const { body } = signed(click('snooze', 'https://hooks.slack.com/actions/T/1/x'));
    const parsed = parseInteraction(body);
    expect(parsed).toMatchObject({
      kind: 'approval',
      interaction: {
        decision: 'snooze',
        approvalId: 'apr-42',
        user: { id: 'U0APPROVER', name: 'ana', teamId: 'T0TEAM' },
        teamId: 'T0TEAM',
        responseUrl: 'https://hooks.slack.com/actions/T/1/x',
      },
    });
    expect(
      parseInteraction('payload=' + encodeURIComponent('{"type":"view_submission","user":{"id":"U1"}}')),
    ).toEqual({ kind: 'ignored', reason: 'interaction type view_submission' });
    expect(parseInteraction('text=hello').kind).toBe('malformed');
    expect(parseInteraction('payload=%7Bnot-json').kind).toBe('malformed');
    // The reason names the field at fault, not a guess.
    const noActions = { type: 'block_actions', user: { id: 'U1' }, actions: [null] };
    expect(parseInteraction('payload=' + encodeURIComponent(JSON.stringify(noActions)))).toMatchObject({
      kind: 'malformed',
      reason: expect.stringMatching(/^payload\.actions\.0: /),
    });
  });

  it('approves: answers 200 at once, resumes, and replaces the message with who decided', async () => {
    const { body, headers } = signed(click('approve', `${slack.url}/actions/T0TEAM/1/abc`));
    const response = handleSlackInteraction(body, headers, deps);
    expect(response.status).toBe(200);
    await response.done;
    expect(decisions).toEqual([['apr-42', 'approve', { id: 'U0APPROVER', name: 'ana' }]]);
    expect(slack.requests).toHaveLength(1);
    expect(slack.requests[0]!.path).toBe('/actions/T0TEAM/1/abc');
    const update = JSON.parse(slack.requests[0]!.body) as {
      replace_original: boolean;
      text: string;
      blocks: { type: string; text?: { text: string } }[];
    };
    expect(update.replace_original).toBe(true);
    expect(update.text).toBe('Remediate now chosen by U0APPROVER at 2024-05-01T12:00:00.000Z');
    expect(update.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(update.blocks.at(-1)).toEqual({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: ':white_check_mark: *Remediate now chosen* by <@U0APPROVER> at <!date^1714564800^{date_short_pretty} {time_secs}|2024-05-01T12:00:00.000Z>',
      },
    });
    expect(update.blocks[0]).toMatchObject({ type: 'header' });
    expect(errors).toEqual([]);
  });

  it('keeps only well-formed blocks of the original message; a malformed one never rejects', async () => {
    const payload = click('approve', `${slack.url}/actions/T0TEAM/1/abc`);
    payload.message.blocks = [null, 'text', ...payload.message.blocks!] as typeof payload.message.blocks;
    const { body, headers } = signed(payload);
    const response = handleSlackInteraction(body, headers, deps);
    expect(response.status).toBe(200);
    await expect(response.done).resolves.toBeUndefined();
    const update = JSON.parse(slack.requests[0]!.body) as { blocks: unknown[] };
    expect(update.blocks[0]).toMatchObject({ type: 'header' });
    expect(update.blocks.every((b) => typeof b === 'object' && b !== null)).toBe(true);
    expect(errors).toEqual([]);
  });

  it('passes snooze with its 10 minutes and skip as they are', async () => {
    for (const decision of ['snooze', 'skip'] as const) {
      const { body, headers } = signed(click(decision, `${slack.url}/actions/x`));
      await handleSlackInteraction(body, headers, deps).done;
    }
    expect(decisions.map(([, d, u]) => [d, u.snoozeSeconds])).toEqual([
      ['snooze', 600],
      ['skip', undefined],
    ]);
  });

  it('answers before a slow decide finishes', async () => {
    let release!: (o: DecideOutcome) => void;
    deps = { ...deps, decide: () => new Promise<DecideOutcome>((resolve) => (release = resolve)) };
    const { body, headers } = signed(click('approve', `${slack.url}/actions/x`));
    const response = handleSlackInteraction(body, headers, deps);
    expect(response.status).toBe(200);
    expect(slack.requests).toHaveLength(0);
    release({ status: 'accepted' });
    await response.done;
    expect(slack.requests).toHaveLength(1);
  });

  it('refuses users outside the allow-list without deciding', async () => {
    const { body, headers } = signed(click('approve', `${slack.url}/actions/x`, 'U0STRANGER'));
    const response = handleSlackInteraction(body, headers, deps);
    expect(response.status).toBe(200);
    await response.done;
    expect(decisions).toEqual([]);
    expect(JSON.parse(slack.requests[0]!.body)).toEqual({
      response_type: 'ephemeral',
      replace_original: false,
      text: "You are not on Rebound's approver list. Ask an admin to add your Slack user id U0STRANGER to slack.allowedUsers.",
    });
  });

  it('tells a late clicker it was already decided, and a closed approval loses its buttons', async () => {
    deps = { ...deps, decide: async () => ({ status: 'already-decided', decision: 'skip', by: 'U0OTHER' }) };
    let s = signed(click('approve', `${slack.url}/actions/x`));
    await handleSlackInteraction(s.body, s.headers, deps).done;
    expect(JSON.parse(slack.requests[0]!.body)).toMatchObject({
      response_type: 'ephemeral',
      text: 'Already decided: skip by U0OTHER.',
    });
    deps = { ...deps, decide: async () => ({ status: 'closed', reason: 'timed out; escalated' }) };
    s = signed(click('approve', `${slack.url}/actions/x`));
    await handleSlackInteraction(s.body, s.headers, deps).done;
    expect(JSON.parse(slack.requests[1]!.body)).toEqual({
      replace_original: true,
      text: 'This approval is no longer open (timed out; escalated).',
    });
  });

  it('reports a failing decide to the user and to onError', async () => {
    deps = { ...deps, decide: async () => Promise.reject(new Error('store unavailable')) };
    const { body, headers } = signed(click('approve', `${slack.url}/actions/x`));
    await handleSlackInteraction(body, headers, deps).done;
    expect(errors).toHaveLength(1);
    expect((JSON.parse(slack.requests[0]!.body) as { text: string }).text).toContain(
      'rebound approve apr-42',
    );
  });

  it('rejects bad signatures and replays with 401, malformed bodies with 400', () => {
    const s = signed(click('approve', `${slack.url}/actions/x`));
    expect(handleSlackInteraction(s.body + 'x', s.headers, deps).status).toBe(401);
    const stale = signed(click('approve', `${slack.url}/actions/x`), String(NOW.getTime() / 1000 - 301));
    expect(handleSlackInteraction(stale.body, stale.headers, deps)).toMatchObject({
      status: 401,
      body: { code: 'UNAUTHORIZED' },
    });
    const bad = 'payload=%7B';
    const headers = {
      'x-slack-request-timestamp': NOW_S,
      'x-slack-signature': slackSignature(SECRET, NOW_S, bad),
    };
    expect(handleSlackInteraction(bad, headers, deps)).toMatchObject({
      status: 400,
      body: { code: 'INVALID_PAYLOAD' },
    });
    expect(decisions).toEqual([]);
  });

  it('refuses other workspaces and never posts to a response_url outside Slack', async () => {
    const other = click('approve', `${slack.url}/actions/x`);
    other.team.id = 'T0EVIL';
    let s = signed(other);
    await handleSlackInteraction(s.body, s.headers, deps).done;
    expect(decisions).toEqual([]);
    s = signed(click('approve', 'http://169.254.169.254/latest'));
    await handleSlackInteraction(s.body, s.headers, deps).done;
    expect(decisions).toHaveLength(1);
    expect(String(errors[0])).toContain('not a Slack URL');
    expect(slack.requests).toHaveLength(1); // only the workspace refusal went to the (allowed) receiver
  });
});
