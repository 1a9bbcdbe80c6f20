import { describe, expect, it } from 'vitest';
import { slackApprovalNotifier } from '../../src/approvals/slack.ts';
import { APPROVAL_ACTIONS, slackAppConfigSchema } from '../../src/integrations/slack/index.ts';
import { eventually } from '../support/http-receiver.ts';
import {
  approvalConfig,
  approvalTestEnv,
  finished,
  OPERATOR_TOKEN,
  pendingApproval,
  postToSlackRoute,
  SIGNING_SECRET,
  slackClick,
  startHarness,
  startRunbook,
  timeline,
} from './harness.ts';

const t = approvalTestEnv();

const operator = { authorization: `Bearer ${OPERATOR_TOKEN}` };
const responses = (path: string) =>
  t.slack.requests.filter((r) => r.path === path).map((r) => JSON.parse(r.body));

describe('approvals through Slack buttons (signed requests to the real HTTP server)', () => {
  it('a click by an allowed user resumes the runbook and replaces the message with who decided', async () => {
    // API tokens are configured: the interactions route must still take Slack's signed, token-less requests.
    t.h = await startHarness(approvalConfig(t.slack, { tokens: true }));
    const { incidentId, executionId } = await startRunbook(t.h, operator);
    const approval = await pendingApproval(t.h, operator);

    const click = slackClick(t.h, t.slack, {
      actionId: APPROVAL_ACTIONS.approve,
      approvalId: approval.id,
      responsePath: '/actions/T0TEAM/1/ok',
    });
    const res = await postToSlackRoute(t.h, click);
    expect(res.status).toBe(200);

    const done = await finished(t.h, executionId, operator);
    expect(done.output).toMatchObject({
      result: 'restarted',
      approval: { decision: 'remediate', decidedBy: `slack:U0ANA`, via: 'slack' },
    });
    await eventually(() => responses('/actions/T0TEAM/1/ok').length === 1);
    const update = responses('/actions/T0TEAM/1/ok')[0] as { replace_original: boolean; blocks: unknown[] };
    expect(update.replace_original).toBe(true);
    expect(JSON.stringify(update.blocks)).toContain('Remediate now chosen* by <@U0ANA>');
    expect(JSON.stringify(update.blocks)).not.toContain('rebound.approval.approve');

    const entries = (await timeline(t.h, incidentId, operator)).map((e) => `${e.actor}: ${e.description}`);
    expect(entries).toContainEqual(
      `slack:U0ANA: Approval ${approval.id} decided: remediate now by slack:U0ANA via slack`,
    );

    // A second click (another button, same message) is told it was already decided, only to that user.
    const late = slackClick(t.h, t.slack, {
      actionId: APPROVAL_ACTIONS.skip,
      approvalId: approval.id,
      responsePath: '/actions/T0TEAM/2/late',
    });
    expect((await postToSlackRoute(t.h, late)).status).toBe(200);
    await eventually(() => responses('/actions/T0TEAM/2/late').length === 1);
    expect(responses('/actions/T0TEAM/2/late')[0]).toMatchObject({
      response_type: 'ephemeral',
      text: 'Already decided: remediate by slack:U0ANA via slack.',
    });
  });

  it('refuses bad signatures, stale timestamps and users outside the allow-list; the approval stays pending', async () => {
    t.h = await startHarness(approvalConfig(t.slack, { tokens: true }));
    await startRunbook(t.h, operator);
    const approval = await pendingApproval(t.h, operator);
    const click = slackClick(t.h, t.slack, {
      actionId: APPROVAL_ACTIONS.approve,
      approvalId: approval.id,
    });

    const forged = await postToSlackRoute(t.h, {
      body: click.body,
      headers: { ...click.headers, 'x-slack-signature': 'v0=' + '0'.repeat(64) },
    });
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { message: string }).message).toMatch(/bad-signature/);

    const tampered = await postToSlackRoute(t.h, {
      body: click.body.replace('U0ANA', 'U0EVE'),
      headers: click.headers,
    });
    expect(tampered.status).toBe(401);

    const staleTs = String(Number(t.h.clock.seconds()) - 301);
    const stale = await postToSlackRoute(
      t.h,
      slackClick(t.h, t.slack, {
        actionId: APPROVAL_ACTIONS.approve,
        approvalId: approval.id,
        timestamp: staleTs,
      }),
    );
    expect(stale.status).toBe(401);
    expect(((await stale.json()) as { message: string }).message).toMatch(/stale-timestamp/);

    const missing = await postToSlackRoute(t.h, {
      body: click.body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(missing.status).toBe(401);

    const stranger = slackClick(t.h, t.slack, {
      actionId: APPROVAL_ACTIONS.approve,
      approvalId: approval.id,
      user: 'U0EVE',
      responsePath: '/actions/T0TEAM/3/eve',
    });
    expect((await postToSlackRoute(t.h, stranger)).status).toBe(200);
    await eventually(() => responses('/actions/T0TEAM/3/eve').length === 1);
    expect(responses('/actions/T0TEAM/3/eve')[0]).toMatchObject({ response_type: 'ephemeral' });
    expect(responses('/actions/T0TEAM/3/eve')[0].text).toMatch(/not on Rebound's approver list.*U0EVE/);

    const still = (
      await t.h.t.app.http.inject({ url: `/v1/approvals/${approval.id}`, headers: operator })
    ).json();
    expect(still.status).toBe('pending');
  });

  it("verifies over the raw form bytes: Slack's published vector passes the signature check", async () => {
    t.h = await startHarness(approvalConfig(t.slack));
    // Slack's example request (a slash command) at its own timestamp: signed correctly, but not a button click.
    const timestamp = 1531420618;
    t.h.clock.offsetMs = timestamp * 1000 - Date.now();
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar' +
      '&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com' +
      '%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    const headers = {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    };
    expect(SIGNING_SECRET).toBe('8f742231b10e8888abcd99yyyzzz85a5');
    const res = await postToSlackRoute(t.h, { body, headers });
    // Past the signature (401 otherwise): refused only because a slash command carries no `payload`.
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/no payload form field/);

    const changed = await postToSlackRoute(t.h, { body: body.replace('roadrunner', 'coyote'), headers });
    expect(changed.status).toBe(401);
  });

  it('says how to configure Slack when the slack section is absent', async () => {
    const config = approvalConfig(t.slack);
    delete config.slack;
    t.h = await startHarness(config);
    const res = await postToSlackRoute(t.h, {
      body: 'payload=%7B%7D',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { message: string }).message).toMatch(/slack\.signingSecret/);
  });

  it('refuses a JSON body unread (Slack posts forms): nothing unsigned is parsed', async () => {
    t.h = await startHarness(approvalConfig(t.slack));
    const res = await postToSlackRoute(t.h, {
      body: '{"not json',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(415);
    expect(((await res.json()) as { code: string }).code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('the line posted when an approval closes', () => {
  it('escapes mrkdwn in it: a summary or a reason from alert data mentions nobody and links nowhere', async () => {
    const bodies: string[] = [];
    const notifier = slackApprovalNotifier({
      config: slackAppConfigSchema.parse({
        signingSecret: 'slack-signing-secret-for-tests-0001',
        approvalWebhookUrl: 'https://hooks.slack.com/services/T/B/X',
      }),
      fetch: async (_url, init) => {
        bodies.push(String(init.body));
        return new Response('ok');
      },
    })!;
    await notifier.closed({
      id: 'apr-1',
      executionId: 'e1',
      incidentId: null,
      runbook: 'r',
      summary: 'restart <!channel> <https://evil.example|checkout> & more',
      status: 'decided',
      onTimeout: 'escalate',
      decision: 'skip',
      decidedBy: 'user:ana',
      via: 'api',
      createdAt: '2026-01-01T00:00:00Z',
      expiresAt: '2026-01-01T00:15:00Z',
    });
    expect(JSON.parse(bodies[0]!).text).toBe(
      ':fast_forward: Skipped (no remediation) for approval apr-1 (restart &lt;!channel&gt; ' +
        '&lt;https://evil.example|checkout&gt; &amp; more) by user:ana via api.',
    );
  });
});
