import { describe, expect, it } from 'vitest';
import { slackAnswers } from '../support/receivers/slack.ts';
import { eventually } from '../support/http-receiver.ts';
import {
  approvalConfig,
  approvalTestEnv,
  execution,
  finished,
  OPERATOR_TOKEN,
  pendingApproval,
  startHarness,
  startRunbook,
  timeline,
  VIEWER_TOKEN,
} from './harness.ts';

const t = approvalTestEnv();

const decide = (id: string, body: unknown, headers: Record<string, string> = {}) =>
  t.h!.t.app.http.inject({
    method: 'POST',
    url: `/v1/approvals/${id}/decision`,
    payload: body as object,
    headers,
  });

describe('approvals through the REST API', () => {
  it('posts the request to Slack, and a remediate decision resumes the runbook at its next state', async () => {
    t.h = await startHarness(approvalConfig(t.slack));
    const { incidentId, executionId } = await startRunbook(t.h);
    const approval = await pendingApproval(t.h);
    expect(approval).toMatchObject({
      executionId,
      incidentId,
      runbook: 'approve-restart',
      summary: 'rollout restart deployment/checkout in shop',
      status: 'pending',
      onTimeout: 'escalate',
    });
    expect(Date.parse(approval.expiresAt) - Date.parse(approval.createdAt)).toBe(900_000);
    expect(approval).not.toHaveProperty('taskToken');

    // The Slack message carries the three buttons, each with the approval id (never the task token).
    await eventually(() => t.slack.requests.length === 1);
    expect(t.slack.requests.map((r) => r.path)).toEqual(['/services/APPROVALS']);
    const posted = JSON.parse(t.slack.requests[0]!.body) as {
      blocks: { type: string; elements?: { action_id: string; value: string; text: { text: string } }[] }[];
    };
    const buttons = posted.blocks.find((b) => b.type === 'actions')!.elements!;
    expect(buttons.map((b) => b.text.text)).toEqual(['Remediate now', 'Skip', 'Snooze 10m']);
    expect(buttons.every((b) => b.value === approval.id)).toBe(true);
    expect(t.slack.requests[0]!.body).toContain('HighErrorRate');

    const res = await decide(approval.id, { decision: 'remediate' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      id: approval.id,
      status: 'decided',
      decision: 'remediate',
      decidedBy: 'user:local',
      via: 'api',
    });

    const done = await finished(t.h, executionId);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.output).toMatchObject({
      result: 'restarted',
      approval: { decision: 'remediate', decidedBy: 'user:local', via: 'api' },
    });

    // Idempotent: a second decision is told who was first and changes nothing.
    const again = await decide(approval.id, { decision: 'skip' });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('ILLEGAL_TRANSITION');
    expect(again.json().message).toMatch(/already decided: remediate by user:local via api/);
    expect(again.json().details.approval).toMatchObject({ id: approval.id, decision: 'remediate' });

    // The task token (a capability to resume the execution) stays out of the incident and the approval.
    const history = (await t.h.t.app.http.inject({ url: `/v1/executions/${executionId}/history` })).json()
      .events as { type: string; taskScheduledEventDetails?: { parameters: string } }[];
    const scheduled = history.find((e) => e.type === 'TaskScheduled')!;
    const token = JSON.stringify(scheduled).match(/"taskToken\\?":\\?"([^"\\]+)/)?.[1];
    expect(token).toBeTruthy();
    const incidentJson = (await t.h.t.app.http.inject({ url: `/v1/incidents/${incidentId}` })).body;
    expect(incidentJson).not.toContain(token);
    expect(JSON.stringify(await t.h.t.app.approvals.get(approval.id))).not.toContain(token);

    const entries = (await timeline(t.h, incidentId)).map((e) => e.description);
    expect(entries).toContainEqual(expect.stringMatching(new RegExp(`Approval ${approval.id} requested`)));
    expect(entries).toContainEqual(`Approval ${approval.id} decided: remediate now by user:local via api`);
    // A decision made outside Slack is announced under the request.
    await eventually(() => t.slack.requests.length === 2);
    expect(JSON.parse(t.slack.requests[1]!.body).text).toMatch(
      /Remediate now chosen .* by user:local via api/,
    );

    const listed = (await t.h.t.app.http.inject({ url: '/v1/approvals?status=decided' })).json().items;
    expect(listed.map((a: { id: string }) => a.id)).toEqual([approval.id]);
    expect((await t.h.t.app.http.inject({ url: '/v1/approvals?status=pending' })).json().items).toEqual([]);
  });

  it('skip takes the other branch; snooze resumes with 600 s and the runbook waits before asking again', async () => {
    t.h = await startHarness(approvalConfig(t.slack));
    const { executionId } = await startRunbook(t.h);
    const first = await pendingApproval(t.h);
    const snoozed = await decide(first.id, { decision: 'snooze' });
    expect(snoozed.json()).toMatchObject({ decision: 'snooze', snoozeSeconds: 600 });
    await eventually(async () => {
      const events = (await t.h!.t.app.http.inject({ url: `/v1/executions/${executionId}/history` })).json()
        .events as { type: string }[];
      return events.some((e) => e.type === 'WaitStateEntered');
    });
    expect((await execution(t.h, executionId)).status).toBe('RUNNING');

    const { executionId: second } = await startRunbook(t.h);
    const pending = await pendingApproval(t.h);
    expect(pending.executionId).toBe(second);
    expect((await decide(pending.id, { decision: 'skip', via: 'dashboard' })).json()).toMatchObject({
      via: 'dashboard',
    });
    const done = await finished(t.h, second);
    expect(done.output).toMatchObject({
      result: 'skipped',
      approval: { decision: 'skip', via: 'dashboard' },
    });
  });

  it('still waits for a decision when Slack refuses the request, and says so on the timeline', async () => {
    t.h = await startHarness(approvalConfig(t.slack));
    t.slack.script(slackAnswers.noService);
    const { incidentId, executionId } = await startRunbook(t.h);
    const approval = await pendingApproval(t.h);
    await eventually(async () =>
      (await timeline(t.h!, incidentId)).some((e) => /could not be posted to Slack/.test(e.description)),
    );
    const entry = (await timeline(t.h, incidentId)).find((e) => /could not be posted/.test(e.description))!;
    expect(entry.description).toMatch(/HTTP 404 no_service.*rebound approve apr-/);
    expect(entry.description).not.toContain(t.slack.url);
    expect((await decide(approval.id, { decision: 'remediate' })).statusCode).toBe(200);
    expect((await finished(t.h, executionId)).output).toMatchObject({ result: 'restarted' });
  });

  it('lets exactly one of two simultaneous decisions win', async () => {
    t.h = await startHarness(approvalConfig(t.slack));
    const { executionId } = await startRunbook(t.h);
    const approval = await pendingApproval(t.h);
    const [a, b] = await Promise.all([
      decide(approval.id, { decision: 'remediate' }),
      decide(approval.id, { decision: 'skip', via: 'dashboard' }),
    ]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 409]);
    const winner = (a.statusCode === 200 ? a : b).json();
    const done = await finished(t.h, executionId);
    expect(done.output?.approval).toMatchObject({ decision: winner.decision, via: winner.via });
  });

  it('refuses a decision for an execution that no longer waits, and closes the approval saying why', async () => {
    t.h = await startHarness(approvalConfig(t.slack));
    const { executionId } = await startRunbook(t.h);
    const approval = await pendingApproval(t.h);
    const stop = await t.h.t.app.http.inject({
      method: 'POST',
      url: `/v1/executions/${executionId}/stop`,
      payload: { error: 'Operator.Stopped' },
    });
    expect(stop.json().status).toBe('ABORTED');
    const res = await decide(approval.id, { decision: 'remediate' });
    expect(res.statusCode).toBe(409);
    expect(res.json().message).toMatch(
      /is closed \(the execution no longer waits for this approval: .*ABORTED/,
    );
    const closed = (await t.h.t.app.http.inject({ url: `/v1/approvals/${approval.id}` })).json();
    expect(closed).toMatchObject({ status: 'expired', decision: 'remediate', decidedBy: 'user:local' });
  });

  it("refuses to complete an approval's task directly: the decision must go through the approval", async () => {
    t.h = await startHarness(approvalConfig(t.slack));
    const { executionId } = await startRunbook(t.h);
    const approval = await pendingApproval(t.h);
    const history = (
      await t.h.t.app.http.inject({ url: `/v1/executions/${encodeURIComponent(executionId)}/history` })
    ).json().events as { type: string; taskScheduledEventDetails?: { parameters: string } }[];
    const scheduled = history.find((e) => e.type === 'TaskScheduled')!;
    const { taskToken } = JSON.parse(scheduled.taskScheduledEventDetails!.parameters) as {
      taskToken: string;
    };
    for (const [url, payload] of [
      ['/v1/tasks/success', { taskToken, output: { decision: 'remediate' } }],
      ['/v1/tasks/failure', { taskToken, error: 'Denied', cause: 'no' }],
    ] as const) {
      const res = await t.h.t.app.http.inject({ method: 'POST', url, payload });
      expect(res.statusCode).toBe(403);
      expect(res.json().message).toBe(
        `this task waits for approval ${approval.id}: decide it with \`rebound approve ${approval.id}\` or ` +
          `\`rebound deny ${approval.id}\` (POST /v1/approvals/${approval.id}/decision), so the decision is recorded`,
      );
    }
    expect((await pendingApproval(t.h)).status).toBe('pending');
    expect((await execution(t.h, executionId)).status).toBe('RUNNING');
  });

  it('describes the approval routes and the Approval object in the OpenAPI document', async () => {
    t.h = await startHarness(approvalConfig(t.slack));
    await startRunbook(t.h);
    const approval = await pendingApproval(t.h);
    await decide(approval.id, { decision: 'snooze' });
    const openapi = (await t.h.t.app.http.inject({ url: '/v1/openapi.json' })).json();
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining([
        '/v1/approvals',
        '/v1/approvals/{id}',
        '/v1/approvals/{id}/decision',
        '/v1/integrations/slack/interactions',
      ]),
    );
    const schema = openapi.components.schemas.Approval;
    const decided = (await t.h.t.app.http.inject({ url: `/v1/approvals/${approval.id}` })).json();
    for (const key of Object.keys(decided)) expect(schema.properties).toHaveProperty(key);
    for (const key of schema.required) expect(decided).toHaveProperty(key);
  });

  it('names bad input and unknown approvals, and needs the operator role when tokens are configured', async () => {
    t.h = await startHarness(approvalConfig(t.slack, { tokens: true }));
    const operator = { authorization: `Bearer ${OPERATOR_TOKEN}` };
    const viewer = { authorization: `Bearer ${VIEWER_TOKEN}` };
    const { executionId } = await startRunbook(t.h, operator);
    const approval = await pendingApproval(t.h, viewer);

    expect((await decide(approval.id, { decision: 'remediate' })).statusCode).toBe(401);
    const forbidden = await decide(approval.id, { decision: 'remediate' }, viewer);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().message).toMatch(/needs operator/);

    const bad = await decide(approval.id, { decision: 'yes' }, operator);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/^body\.decision: /);
    expect((await decide(approval.id, { decision: 'skip', extra: 1 }, operator)).statusCode).toBe(400);
    // Only a snooze has a length: any other decision would drop it, and answer 200 as if it had been used.
    for (const decision of ['remediate', 'skip']) {
      const dropped = await decide(approval.id, { decision, snoozeSeconds: 60 }, operator);
      expect(dropped.statusCode, decision).toBe(400);
      expect(dropped.json()).toEqual({
        code: 'BAD_REQUEST',
        message: 'body.snoozeSeconds: only a snooze takes snoozeSeconds; remove it, or decide "snooze"',
        path: 'snoozeSeconds',
      });
    }
    expect((await t.h.t.app.approvals.get(approval.id)).status).toBe('pending');
    const unknown = await decide('apr-nope', { decision: 'skip' }, operator);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().message).toMatch(/rebound approvals list/);
    const badQuery = await t.h.t.app.http.inject({ url: '/v1/approvals?status=maybe', headers: viewer });
    expect(badQuery.statusCode).toBe(400);

    const ok = await decide(approval.id, { decision: 'remediate' }, operator);
    expect(ok.json()).toMatchObject({ decidedBy: 'user:ana', via: 'api' });
    expect((await finished(t.h, executionId, operator)).output).toMatchObject({ result: 'restarted' });
  });
});
