import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { WorkflowMetrics } from '../../src/workflows/metrics.ts';
import type { ExecutionRecord } from '../../src/workflows/port.ts';
import { Fixture } from './support.ts';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const record = (i: number, extra: Partial<ExecutionRecord> = {}): ExecutionRecord => ({
  id: `m:e${i}`,
  name: `e${i}`,
  machineName: 'm',
  definition: { StartAt: 'A', States: { A: { Type: 'Pass', End: true } } },
  input: { i },
  status: 'RUNNING',
  startTime: 1000 + i,
  redriveCount: 0,
  owner: 'w1',
  leaseUntil: 5000,
  ...extra,
});

/** A history event with id `id`. */
const ev = (id: number) => ({
  id,
  previousEventId: id - 1,
  timestamp: id,
  type: 'PassStateEntered' as const,
  details: { name: 'A' },
  key: `k${id}`,
  epoch: 0,
});

describe('SQLite workflow store (the port, on a real file)', () => {
  it('appends history in order, fences writes by lease owner, pages executions by status and time', async () => {
    fx = new Fixture({});
    const { store } = fx;
    for (let i = 0; i < 5; i += 1) await store.createExecution(record(i), []);
    await expect(store.createExecution(record(0), [])).rejects.toMatchObject({ code: 'CONFLICT' });
    await store.appendEvents('m:e0', 'w1', [ev(1), ev(2)]);
    await store.appendEvents('m:e0', 'w1', [ev(3)], {
      status: 'SUCCEEDED',
      output: 1,
      releaseLease: true,
      stopTime: 9,
    });
    expect((await store.loadHistory('m:e0')).map((e) => e.id)).toEqual([1, 2, 3]);
    await expect(store.appendEvents('m:e1', 'intruder', [ev(1)])).rejects.toMatchObject({ code: 'CONFLICT' });
    const first = await store.listExecutions({ status: 'RUNNING', limit: 2 });
    expect(first.items.map((e) => e.name)).toEqual(['e4', 'e3']);
    const second = await store.listExecutions({ status: 'RUNNING', limit: 2, cursor: first.nextCursor });
    expect(second.items.map((e) => e.name)).toEqual(['e2', 'e1']);
    expect(second.nextCursor).toBeUndefined();
    expect((await store.getExecution('m:e0'))?.status).toBe('SUCCEEDED');
    await expect(store.listExecutions({ limit: 1, cursor: 'garbage' })).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
  });

  it('a batch of appends: a lost lease, a missing execution or a failing write fails only its own request', async () => {
    fx = new Fixture({});
    const { store } = fx;
    for (let i = 0; i < 4; i += 1) await store.createExecution(record(i), []);
    const ok = { owner: 'w1', events: [ev(1)] };
    // Without a failing write: refusals are decided before anything is written.
    const refused = await store.appendBatch([
      { executionId: 'm:e0', ...ok },
      { executionId: 'm:e1', ...ok, owner: 'intruder' },
      { executionId: 'm:nope', ...ok },
      { executionId: 'm:e2', ...ok, update: { status: 'SUCCEEDED', output: 2, releaseLease: true } },
    ]);
    expect(refused.map((e) => (e as { code?: string } | undefined)?.code)).toEqual([
      undefined,
      'CONFLICT',
      'NOT_FOUND',
      undefined,
    ]);
    expect((await store.loadHistory('m:e0')).map((e) => e.id)).toEqual([1]);
    expect(await store.loadHistory('m:e1')).toEqual([]);
    expect((await store.getExecution('m:e2'))?.status).toBe('SUCCEEDED');
    // A write that fails after its ownership check (a chunk that starts at an id already stored): the batch
    // is done again request by request, and only that request fails, with nothing of it left behind.
    const failed = await store.appendBatch([
      { executionId: 'm:e3', ...ok },
      { executionId: 'm:e0', ...ok, update: { status: 'FAILED', error: 'x', releaseLease: true } },
      { executionId: 'm:e1', ...ok },
    ]);
    expect(failed[0]).toBeUndefined();
    expect(failed[1]?.message).toMatch(/UNIQUE|PRIMARY KEY|constraint/i);
    expect(failed[2]).toBeUndefined();
    expect((await store.loadHistory('m:e3')).map((e) => e.id)).toEqual([1]);
    expect((await store.loadHistory('m:e1')).map((e) => e.id)).toEqual([1]);
    expect((await store.loadHistory('m:e0')).map((e) => e.id)).toEqual([1]);
    expect((await store.getExecution('m:e0'))?.status).toBe('RUNNING');
  });

  it('timers: the first fire time wins, due timers come earliest first, fired timers are kept', async () => {
    fx = new Fixture({});
    const { store } = fx;
    await store.createExecution(record(1), []);
    expect(await store.putTimer({ executionId: 'm:e1', key: 't1', fireAt: 500 })).toBe(500);
    expect(await store.putTimer({ executionId: 'm:e1', key: 't1', fireAt: 900 })).toBe(500);
    await store.putTimer({ executionId: 'm:e1', key: 't0', fireAt: 100 });
    await store.putTimer({ executionId: 'm:e1', key: 'late', fireAt: 10_000 });
    expect((await store.dueTimers(600, 10)).map((t) => t.key)).toEqual(['t0', 't1']);
    await store.markTimerFired('m:e1', 't0', 150);
    expect((await store.dueTimers(600, 10)).map((t) => t.key)).toEqual(['t1']);
    expect(await store.loadTimers('m:e1')).toHaveLength(3);
  });

  it('leases: taken when free, expired or ours; renewed; claimable lists expired ones', async () => {
    fx = new Fixture({});
    const { store } = fx;
    await store.createExecution(record(1, { owner: 'w1', leaseUntil: 100 }), []);
    expect(await store.acquireLease('m:e1', 'w2', 200, 50)).toBe(false);
    expect(await store.claimableExecutions('w2', 50, 10)).toEqual([]);
    expect(await store.claimableExecutions('w2', 150, 10)).toEqual(['m:e1']);
    expect(await store.acquireLease('m:e1', 'w2', 300, 150)).toBe(true);
    await store.renewLeases('w2', 1000);
    expect((await store.getExecution('m:e1'))?.leaseUntil).toBe(1000);
    expect(await store.claimableExecutions('w2', 500, 10)).toEqual(['m:e1']);
    expect(await store.claimableExecutions('w3', 500, 10)).toEqual([]);
  });

  it('task tokens complete once and record heartbeats', async () => {
    fx = new Fixture({});
    const { store } = fx;
    await store.putTaskToken({ token: 't', executionId: 'm:e1', key: 'k', createdAt: 1 });
    await store.heartbeatTaskToken('t', 5);
    expect(await store.completeTaskToken('t', { ok: true, output: 1 })).toBe(true);
    expect(await store.completeTaskToken('t', { ok: false, error: 'E', cause: '' })).toBe(false);
    expect(await store.getTaskToken('t')).toMatchObject({
      lastHeartbeat: 5,
      outcome: { ok: true, output: 1 },
    });
  });

  it('retention deletes executions that ended before the cutoff, with history, timers and tokens', async () => {
    fx = new Fixture({});
    const { store } = fx;
    const end = (id: string, status: 'SUCCEEDED' | 'FAILED' | 'ABORTED', stopTime: number) =>
      store.appendEvents(id, 'w1', [ev(2)], { status, releaseLease: true, stopTime });
    // 250 old ones, more than one chunk; then one of each kind to keep.
    for (let i = 0; i < 250; i += 1) {
      await store.createExecution(record(i), [ev(1)]);
      await store.putTimer({ executionId: `m:e${i}`, key: 't', fireAt: 10 });
      await store.putTaskToken({ token: `tok${i}`, executionId: `m:e${i}`, key: 'k', createdAt: 1 });
      await end(`m:e${i}`, (['SUCCEEDED', 'FAILED', 'ABORTED'] as const)[i % 3]!, 100);
    }
    await store.createExecution(record(900), [ev(1)]); // still running, however old
    await store.createExecution(record(901), [ev(1)]);
    await end('m:e901', 'FAILED', 5000); // ended after the cutoff
    await store.putTaskToken({ token: 'kept', executionId: 'm:e901', key: 'k', createdAt: 1 });
    expect(await store.taskTokensOf('m:e0')).toEqual(['tok0']);

    expect(await store.deleteEndedBefore(1000)).toBe(250);
    expect(await store.getExecution('m:e0')).toBeUndefined();
    expect(await store.loadHistory('m:e0')).toEqual([]);
    expect(await store.loadTimers('m:e0')).toEqual([]);
    expect(await store.getTaskToken('tok0')).toBeUndefined();
    expect((await store.listExecutions({ limit: 10 })).items.map((e) => e.name)).toEqual(['e901', 'e900']);
    expect(await store.loadHistory('m:e900')).toHaveLength(1);
    expect(await store.taskTokensOf('m:e901')).toEqual(['kept']);
    expect(await store.deleteEndedBefore(1000)).toBe(0);
    // A deleted execution's name stays taken (the bus starts a runbook once per name); a redrive that comes
    // after the deletion is told the execution is gone.
    await expect(store.createExecution(record(0), [])).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringMatching(/^an execution named 'e0' ran before and was deleted by retention on /),
    });
    await expect(store.redriveExecution('m:e1', 'w1', 9000, ev(3), 1)).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: "execution 'm:e1' no longer exists: retention deleted it (workflows.retention.maxAgeDays)",
    });

    const stopping = new AbortController();
    stopping.abort();
    expect(await store.deleteEndedBefore(10_000, stopping.signal)).toBe(0); // shutdown: nothing started
    expect(await store.deleteEndedBefore(10_000)).toBe(1);
  });
});

describe('metrics', () => {
  it('counts executions by status, state transitions, task latency and timer lag', async () => {
    const registry = new Registry();
    fx = new Fixture({ work: () => 1 }, { metrics: new WorkflowMetrics(registry) });
    const def = {
      StartAt: 'T',
      States: {
        T: { Type: 'Task', Resource: 'work', Next: 'W' },
        W: { Type: 'Wait', Seconds: 5, End: true },
      },
    };
    const { executionId } = await fx.engine.startExecution(def as never, {});
    await fx.settle(executionId);
    const text = await registry.metrics();
    expect(text).toMatch(/rebound_workflow_executions_total\{status="RUNNING"\} 1/);
    expect(text).toMatch(/rebound_workflow_executions_total\{status="SUCCEEDED"\} 1/);
    expect(text).toMatch(/rebound_workflow_state_transitions_total 2/);
    expect(text).toMatch(
      /rebound_workflow_task_duration_seconds_count\{resource="work",outcome="succeeded"\} 1/,
    );
    expect(text).toMatch(/rebound_workflow_timer_lag_seconds_count 1/);
    expect(text).toMatch(/rebound_workflow_executions_running 0/);
  });
});
