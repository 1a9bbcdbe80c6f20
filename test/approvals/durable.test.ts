import { describe, expect, it } from 'vitest';
import { eventually } from '../support/http-receiver.ts';
import {
  approvalConfig,
  approvalTestEnv,
  execution,
  finished,
  pendingApproval,
  startHarness,
  startRunbook,
  TestClock,
  timeline,
} from './harness.ts';

const t = approvalTestEnv();

describe('approval time-outs and restarts', () => {
  it('fails the task with Approval.TimedOut once the deadline passed; the runbook catches it and escalates', async () => {
    t.h = await startHarness(approvalConfig(t.slack));
    const { incidentId, executionId } = await startRunbook(t.h);
    const approval = await pendingApproval(t.h);

    // Not yet due: the sweep leaves it alone.
    t.h.clock.offsetMs = 899_000;
    expect(await t.h.t.app.approvals.sweep()).toEqual({ expired: 0, redelivered: 0 });
    expect((await execution(t.h, executionId)).status).toBe('RUNNING');

    t.h.clock.offsetMs = 901_000;
    expect(await t.h.t.app.approvals.sweep()).toEqual({ expired: 1, redelivered: 0 });
    const done = await finished(t.h, executionId);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.output?.result).toBe('escalated');
    expect(done.output?.error).toMatchObject({ Error: 'Approval.TimedOut' });
    expect(done.output?.error?.['Cause']).toContain(approval.id);

    const expired = (await t.h.t.app.http.inject({ url: `/v1/approvals/${approval.id}` })).json();
    expect(expired).toMatchObject({ status: 'expired', via: 'timeout', reason: 'no decision within 900s' });
    const late = await t.h.t.app.http.inject({
      method: 'POST',
      url: `/v1/approvals/${approval.id}/decision`,
      payload: { decision: 'remediate' },
    });
    expect(late.statusCode).toBe(409);
    expect(late.json().message).toMatch(/is closed \(no decision within 900s\)/);

    const entries = (await timeline(t.h, incidentId)).map((e) => e.description);
    expect(entries).toContainEqual(
      expect.stringMatching(/expired: no decision within 900s.*Approval\.TimedOut/),
    );
    await eventually(() => t.slack.requests.length === 2, 30_000);
    expect(JSON.parse(t.slack.requests[1]!.body).text).toMatch(/expired.*Rebound will escalate/);
  });

  it('survives a restart while waiting: the same approval is still decidable and the execution resumes', async () => {
    const config = approvalConfig(t.slack);
    const clock = new TestClock();
    t.h = await startHarness(config, clock);
    const { incidentId, executionId } = await startRunbook(t.h);
    const before = await pendingApproval(t.h);
    // The task is submitted once its action returned, i.e. after the post to Slack was recorded as done.
    await eventually(async () => {
      const history = (await t.h!.t.app.http.inject({ url: `/v1/executions/${executionId}/history` })).json();
      return (history.events as { type: string }[]).some((e) => e.type === 'TaskSubmitted');
    });
    expect(t.slack.requests).toHaveLength(1);
    const dir = t.h.t.dir;
    await t.h.t.app.stop();

    t.h = await startHarness(config, clock, dir);
    const after = await pendingApproval(t.h);
    expect(after).toEqual(before);
    // The resumed task found its approval: nothing was posted to Slack twice.
    await eventually(async () => (await execution(t.h!, executionId)).status === 'RUNNING');
    const res = await t.h.t.app.http.inject({
      method: 'POST',
      url: `/v1/approvals/${before.id}/decision`,
      payload: { decision: 'remediate' },
    });
    expect(res.statusCode).toBe(200);
    const done = await finished(t.h, executionId);
    expect(done.output).toMatchObject({ result: 'restarted', approval: { decision: 'remediate' } });
    expect(t.slack.requests.filter((r) => r.path === '/services/APPROVALS')).toHaveLength(2);
    expect(JSON.parse(t.slack.requests[1]!.body).text).toMatch(/Remediate now chosen/);
    const requested = (await timeline(t.h, incidentId)).filter((e) =>
      /requested by runbook/.test(e.description),
    );
    expect(requested).toHaveLength(1);
  });

  it('keeps the deadline across a restart: an approval that expired while Rebound was down times out at start', async () => {
    const config = approvalConfig(t.slack);
    const clock = new TestClock();
    t.h = await startHarness(config, clock);
    const { executionId } = await startRunbook(t.h);
    const approval = await pendingApproval(t.h);
    const dir = t.h.t.dir;
    await t.h.t.app.stop();

    clock.offsetMs = 3_600_000;
    t.h = await startHarness(config, clock, dir);
    // No sweep by hand: the one at start finds the deadline passed.
    const done = await finished(t.h, executionId);
    expect(done.output).toMatchObject({ result: 'escalated', error: { Error: 'Approval.TimedOut' } });
    expect((await t.h.t.app.http.inject({ url: `/v1/approvals/${approval.id}` })).json().status).toBe(
      'expired',
    );
  });
});
