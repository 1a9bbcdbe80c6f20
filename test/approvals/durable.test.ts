import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from '../support/http-receiver.ts';
import type { HttpRecorder } from '../support/receivers/http-recorder.ts';
import { startSlackReceiver } from '../support/receivers/slack.ts';
import {
  approvalConfig,
  execution,
  finished,
  pendingApproval,
  startHarness,
  startRunbook,
  TestClock,
  timeline,
  type Harness,
} from './harness.ts';

let slack: HttpRecorder;
let h: Harness | undefined;

beforeEach(async () => {
  slack = await startSlackReceiver();
});
afterEach(async () => {
  await h?.t.close();
  h = undefined;
  await slack.close();
});

describe('approval time-outs and restarts', () => {
  it('fails the task with Approval.TimedOut once the deadline passed; the runbook catches it and escalates', async () => {
    h = await startHarness(approvalConfig(slack));
    const { incidentId, executionId } = await startRunbook(h);
    const approval = await pendingApproval(h);

    // Not yet due: the sweep leaves it alone.
    h.clock.offsetMs = 899_000;
    expect(await h.t.app.approvals.sweep()).toEqual({ expired: 0, redelivered: 0 });
    expect((await execution(h, executionId)).status).toBe('RUNNING');

    h.clock.offsetMs = 901_000;
    expect(await h.t.app.approvals.sweep()).toEqual({ expired: 1, redelivered: 0 });
    const done = await finished(h, executionId);
    expect(done.status).toBe('SUCCEEDED');
    expect(done.output?.result).toBe('escalated');
    expect(done.output?.error).toMatchObject({ Error: 'Approval.TimedOut' });
    expect(done.output?.error?.['Cause']).toContain(approval.id);

    const expired = (await h.t.app.http.inject({ url: `/v1/approvals/${approval.id}` })).json();
    expect(expired).toMatchObject({ status: 'expired', via: 'timeout', reason: 'no decision within 900s' });
    const late = await h.t.app.http.inject({
      method: 'POST',
      url: `/v1/approvals/${approval.id}/decision`,
      payload: { decision: 'remediate' },
    });
    expect(late.statusCode).toBe(409);
    expect(late.json().message).toMatch(/is closed \(no decision within 900s\)/);

    const entries = (await timeline(h, incidentId)).map((e) => e.description);
    expect(entries).toContainEqual(
      expect.stringMatching(/expired: no decision within 900s.*Approval\.TimedOut/),
    );
    await eventually(() => slack.requests.length === 2, 30_000);
    expect(JSON.parse(slack.requests[1]!.body).text).toMatch(/expired.*Rebound will escalate/);
  });

  it('survives a restart while waiting: the same approval is still decidable and the execution resumes', async () => {
    const config = approvalConfig(slack);
    const clock = new TestClock();
    h = await startHarness(config, clock);
    const { incidentId, executionId } = await startRunbook(h);
    const before = await pendingApproval(h);
    // The task is submitted once its action returned, i.e. after the post to Slack was recorded as done.
    await eventually(async () => {
      const history = (await h!.t.app.http.inject({ url: `/v1/executions/${executionId}/history` })).json();
      return (history.events as { type: string }[]).some((e) => e.type === 'TaskSubmitted');
    });
    expect(slack.requests).toHaveLength(1);
    const dir = h.t.dir;
    await h.t.app.stop();

    h = await startHarness(config, clock, dir);
    const after = await pendingApproval(h);
    expect(after).toEqual(before);
    // The resumed task found its approval: nothing was posted to Slack twice.
    await eventually(async () => (await execution(h!, executionId)).status === 'RUNNING');
    const res = await h.t.app.http.inject({
      method: 'POST',
      url: `/v1/approvals/${before.id}/decision`,
      payload: { decision: 'remediate' },
    });
    expect(res.statusCode).toBe(200);
    const done = await finished(h, executionId);
    expect(done.output).toMatchObject({ result: 'restarted', approval: { decision: 'remediate' } });
    expect(slack.requests.filter((r) => r.path === '/services/APPROVALS')).toHaveLength(2);
    expect(JSON.parse(slack.requests[1]!.body).text).toMatch(/Remediate now chosen/);
    const requested = (await timeline(h, incidentId)).filter((e) =>
      /requested by runbook/.test(e.description),
    );
    expect(requested).toHaveLength(1);
  });

  it('keeps the deadline across a restart: an approval that expired while Rebound was down times out at start', async () => {
    const config = approvalConfig(slack);
    const clock = new TestClock();
    h = await startHarness(config, clock);
    const { executionId } = await startRunbook(h);
    const approval = await pendingApproval(h);
    const dir = h.t.dir;
    await h.t.app.stop();

    clock.offsetMs = 3_600_000;
    h = await startHarness(config, clock, dir);
    // No sweep by hand: the one at start finds the deadline passed.
    const done = await finished(h, executionId);
    expect(done.output).toMatchObject({ result: 'escalated', error: { Error: 'Approval.TimedOut' } });
    expect((await h.t.app.http.inject({ url: `/v1/approvals/${approval.id}` })).json().status).toBe(
      'expired',
    );
  });
});
