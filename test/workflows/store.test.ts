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

describe('SQLite workflow store (the port, on a real file)', () => {
  it('appends history in order, fences writes by lease owner, pages executions by status and time', async () => {
    fx = new Fixture({});
    const { store } = fx;
    for (let i = 0; i < 5; i += 1) await store.createExecution(record(i), []);
    await expect(store.createExecution(record(0), [])).rejects.toMatchObject({ code: 'CONFLICT' });
    const ev = (id: number) => ({
      id,
      previousEventId: id - 1,
      timestamp: id,
      type: 'PassStateEntered' as const,
      details: { name: 'A' },
      key: `k${id}`,
      epoch: 0,
    });
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
