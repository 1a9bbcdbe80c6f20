import { afterEach, describe, expect, it } from 'vitest';
import type { ActionContext } from '../../src/actions/types.ts';
import { MAX_HISTORY_EVENTS } from '../../src/workflows/execution.ts';
import { HandlerRunner } from '../../src/workflows/local-runner.ts';
import { failing } from '../support/failing.ts';
import { Fixture, idle } from './support.ts';

let fx: Fixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

const waitThenTask = {
  StartAt: 'W',
  States: {
    W: { Type: 'Wait', Seconds: 3600, Next: 'T' },
    T: { Type: 'Task', Resource: 'work', End: true },
  },
};

/** A callback task state: the `ask` action receives its token as `t`. */
const askState = (extra: object) => ({
  Type: 'Task',
  Resource: 'ask.waitForTaskToken',
  Parameters: { 't.$': '$$.Task.Token' },
  ...extra,
});

/** A machine of one callback task. */
const askMachine = (extra: object) => ({
  StartAt: 'Ask',
  States: { Ask: askState({ End: true, ...extra }) },
});

/** An `ask` action that records each token it is given, in order, and answers nothing yet. */
const recordingAsk = (tokens: string[]) => ({
  ask: (i: unknown) => (tokens.push((i as { t: string }).t), null),
});

describe('durable execution', () => {
  it('a Wait survives a restart and fires late, never lost; earlier states are not re-run', async () => {
    const calls: string[] = [];
    fx = new Fixture({ work: (i, ctx) => (calls.push(ctx.idempotencyKey), { got: i }) });
    const { executionId } = await fx.engine.startExecution(waitThenTask as never, { n: 1 }, { name: 'w1' });
    await idle(10);
    await fx.restart();
    fx.clock.advance(2 * 3600_000);
    await fx.settle(executionId);
    expect(await fx.store.getExecution(executionId)).toMatchObject({
      status: 'SUCCEEDED',
      output: { got: { n: 1 } },
    });
    expect(calls).toHaveLength(1);
    const types = (await fx.engine.history(executionId)).map((e) => e.type);
    expect(types.filter((t) => t === 'WaitStateEntered')).toHaveLength(1);
  });

  it('a task in flight at a restart is requested again with the same idempotency key, and recorded once', async () => {
    const keys: string[] = [];
    let release: (() => void) | undefined;
    fx = new Fixture({
      work: (_i, ctx: ActionContext) => {
        keys.push(ctx.idempotencyKey);
        if (keys.length === 1)
          return new Promise((_r, reject) =>
            ctx.signal.addEventListener('abort', () => reject(new Error('cut'))),
          );
        return new Promise((r) => (release = () => r('ok')));
      },
    });
    const def = { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'work', End: true } } };
    const { executionId } = await fx.engine.startExecution(def as never, {});
    await idle(10);
    await fx.restart();
    await idle(10);
    release?.();
    await fx.settle(executionId);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
    const history = await fx.engine.history(executionId);
    expect(history.filter((e) => e.type === 'TaskSucceeded')).toHaveLength(1);
    expect(history.map((e) => e.id)).toEqual(history.map((_e, i) => i + 1));
  });

  it('callback tasks: token in the context, SendTaskSuccess after a restart completes the task', async () => {
    const tokens: string[] = [];
    fx = new Fixture({ 'notify.ask': (i) => (tokens.push((i as { token: string }).token), { sent: true }) });
    const def = {
      StartAt: 'Ask',
      States: {
        Ask: {
          Type: 'Task',
          Resource: 'rebound:notify.ask.waitForTaskToken',
          Parameters: { 'token.$': '$$.Task.Token' },
          ResultPath: '$.answer',
          End: true,
        },
      },
    };
    const { executionId } = await fx.engine.startExecution(def as never, { q: 1 });
    await idle(10);
    expect(tokens).toHaveLength(1);
    await fx.restart();
    await idle(10);
    expect(tokens).toHaveLength(2);
    expect(tokens[1]).toBe(tokens[0]);
    await fx.engine.sendTaskSuccess(tokens[0]!, { approved: true });
    await fx.settle(executionId);
    expect(await fx.store.getExecution(executionId)).toMatchObject({
      status: 'SUCCEEDED',
      output: { q: 1, answer: { approved: true } },
    });
    const types = (await fx.engine.history(executionId)).map((e) => e.type);
    expect(types).toContain('TaskSubmitted');
    // Says how the task ended (not `TaskTimedOut`, Step Functions' name for the refusal, as if it were why).
    await expect(fx.engine.sendTaskSuccess(tokens[0]!, {})).rejects.toMatchObject({
      code: 'ILLEGAL_TRANSITION',
      message:
        'task token already used: the task succeeded at 2026-01-01T00:00:00.000Z; the execution ended with ' +
        'SUCCEEDED at 2026-01-01T00:00:00.000Z (Step Functions: TaskTimedOut)',
    });
    await expect(fx.engine.sendTaskSuccess('nope', {})).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('a history read for a viewer hides the tokens issued before the token secret was rotated too', async () => {
    const tokens: string[] = [];
    fx = new Fixture(recordingAsk(tokens), { tokenSecret: 'the-first-secret-0123456789' });
    const { executionId } = await fx.engine.startExecution(askMachine({}) as never, {});
    await idle(10);
    await fx.restart({ tokenSecret: 'the-second-secret-0123456789' });
    await idle(10);
    expect(tokens).toHaveLength(2);
    expect(tokens[1]).not.toBe(tokens[0]); // the resumed attempt is issued a token under the new secret
    const full = JSON.stringify(await fx.engine.history(executionId));
    expect(full).toContain(tokens[0]);
    const hidden = JSON.stringify(await fx.engine.history(executionId, { hideTaskTokens: true }));
    for (const token of tokens) expect(hidden).not.toContain(token);
    expect(hidden).toContain('[task token hidden]');
  });

  it('SendTaskFailure fails the task with the given error; a missed heartbeat is States.HeartbeatTimeout', async () => {
    const tokens: string[] = [];
    fx = new Fixture(recordingAsk(tokens));
    const a = await fx.engine.startExecution(askMachine({}) as never, {});
    await idle(10);
    await fx.engine.sendTaskFailure(tokens[0]!, 'Denied', 'no');
    await fx.settle(a.executionId);
    expect(await fx.store.getExecution(a.executionId)).toMatchObject({
      status: 'FAILED',
      error: 'Denied',
      cause: 'no',
    });

    const b = await fx.engine.startExecution(
      askMachine({ HeartbeatSeconds: 10, TimeoutSeconds: 100 }) as never,
      {},
    );
    await idle(10);
    fx.clock.advance(8000);
    await fx.engine.sendTaskHeartbeat(tokens[1]!);
    fx.clock.advance(8000);
    await idle(10);
    expect((await fx.store.getExecution(b.executionId))?.status).toBe('RUNNING');
    fx.clock.advance(3000);
    await fx.settle(b.executionId);
    expect(await fx.store.getExecution(b.executionId)).toMatchObject({
      status: 'FAILED',
      error: 'States.HeartbeatTimeout',
    });
    expect((await fx.engine.history(b.executionId)).map((e) => e.type)).toContain('TaskTimedOut');
  });

  it('a callback task that ends without its answer closes its token: a late SendTask call is refused', async () => {
    const tokens: string[] = [];
    fx = new Fixture(recordingAsk(tokens));
    const timedOut = {
      StartAt: 'Ask',
      States: {
        Ask: askState({
          TimeoutSeconds: 10,
          Catch: [{ ErrorEquals: ['States.Timeout'], Next: 'Escalate' }],
          End: true,
        }),
        Escalate: { Type: 'Wait', Seconds: 3600, End: true },
      },
    };
    const a = await fx.engine.startExecution(timedOut as never, {});
    await idle(10);
    fx.clock.advance(11_000);
    await idle(10);
    expect((await fx.engine.history(a.executionId)).map((e) => e.type)).toContain('TaskTimedOut');
    await expect(fx.engine.sendTaskSuccess(tokens[0]!, { approved: true })).rejects.toMatchObject({
      code: 'ILLEGAL_TRANSITION',
      message:
        'task token expired: the task timed out (States.Timeout) at 2026-01-01T00:00:11.000Z ' +
        '(Step Functions: TaskTimedOut)',
    });
    await expect(fx.engine.sendTaskHeartbeat(tokens[0]!)).rejects.toMatchObject({
      code: 'ILLEGAL_TRANSITION',
    });

    // A branch aborted because its sibling failed closes its token too.
    const sibling = {
      StartAt: 'P',
      States: {
        P: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'Ask', States: { Ask: askState({ End: true }) } },
            {
              StartAt: 'Later',
              States: {
                Later: { Type: 'Wait', Seconds: 5, Next: 'Boom' },
                Boom: { Type: 'Fail', Error: 'Boom' },
              },
            },
          ],
          End: true,
        },
      },
    };
    const b = await fx.engine.startExecution(sibling as never, {});
    await idle(10);
    expect(tokens).toHaveLength(2);
    await fx.settle(b.executionId);
    expect(await fx.store.getExecution(b.executionId)).toMatchObject({ status: 'FAILED', error: 'Boom' });
    await idle(10);
    await expect(fx.engine.sendTaskSuccess(tokens[1]!, {})).rejects.toMatchObject({
      code: 'ILLEGAL_TRANSITION',
      message: expect.stringMatching(/^task token closed: .*the execution ended with FAILED at /),
    });
  });

  it('a heartbeat that reached another worker (only in the store) keeps the task alive', async () => {
    const tokens: string[] = [];
    fx = new Fixture(recordingAsk(tokens));
    const def = askMachine({ HeartbeatSeconds: 10 });
    const { executionId } = await fx.engine.startExecution(def as never, {});
    await idle(10);
    fx.clock.advance(8000);
    await fx.store.heartbeatTaskToken(tokens[0]!, fx.clock.now()); // as another worker's API would
    fx.clock.advance(2500); // past the first deadline, before the poll saw the heartbeat
    await idle(10);
    expect((await fx.store.getExecution(executionId))?.status).toBe('RUNNING');
    await fx.engine.sendTaskSuccess(tokens[0]!, 'ok');
    await fx.settle(executionId);
    expect(await fx.store.getExecution(executionId)).toMatchObject({ status: 'SUCCEEDED', output: 'ok' });
  });

  it('a failed store write detaches the run (the reaper resumes it) instead of failing the execution', async () => {
    fx = new Fixture({ work: () => 'done' });
    let failures = 1;
    const store = failing(fx.store, 'putTimer', () =>
      failures > 0
        ? (failures--, Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }))
        : undefined,
    );
    const errors: unknown[] = [];
    await fx.engine.stop();
    fx.engine = fx.newEngine({ store, onError: (_id, err) => errors.push(err) });
    const { executionId } = await fx.engine.startExecution(waitThenTask as never, {});
    await idle(10);
    expect((await fx.store.getExecution(executionId))?.status).toBe('RUNNING');
    expect(fx.engine.active).toBe(0);
    expect(String(errors[0])).toMatch(/database is locked/);
    expect(await fx.engine.reap()).toBe(1);
    fx.clock.advance(3600_000);
    await fx.settle(executionId);
    expect(await fx.store.getExecution(executionId)).toMatchObject({ status: 'SUCCEEDED', output: 'done' });
  });

  it('TimeoutSeconds on a task gives States.Timeout (catchable); on the machine, ExecutionTimedOut', async () => {
    fx = new Fixture({ slow: () => new Promise(() => undefined) });
    const def = {
      StartAt: 'T',
      States: {
        T: {
          Type: 'Task',
          Resource: 'slow',
          TimeoutSeconds: 5,
          Catch: [{ ErrorEquals: ['States.Timeout'], Next: 'Late' }],
          End: true,
        },
        Late: { Type: 'Pass', Result: 'late', End: true },
      },
    };
    const a = await fx.engine.startExecution(def as never, {});
    await fx.settle(a.executionId);
    expect(await fx.store.getExecution(a.executionId)).toMatchObject({ status: 'SUCCEEDED', output: 'late' });
    const machine = {
      TimeoutSeconds: 60,
      StartAt: 'W',
      States: { W: { Type: 'Wait', Seconds: 600, End: true } },
    };
    const b = await fx.engine.startExecution(machine as never, {});
    await fx.settle(b.executionId);
    expect(await fx.store.getExecution(b.executionId)).toMatchObject({
      status: 'TIMED_OUT',
      error: 'States.Timeout',
    });
    expect((await fx.engine.history(b.executionId)).at(-1)?.type).toBe('ExecutionTimedOut');
  });

  it('a graceful stop lets running actions finish and records them, but starts no new task', async () => {
    const calls: string[] = [];
    let finish: ((v: unknown) => void) | undefined;
    let cut = false;
    fx = new Fixture(
      {
        slow: (_i, ctx) => {
          calls.push('slow');
          ctx.signal.addEventListener('abort', () => (cut = true));
          return new Promise((r) => (finish = r));
        },
        quick: () => (calls.push('quick'), new Promise((r) => setTimeout(() => r('q'), 20))),
        next: () => (calls.push('next'), new Promise((r) => setTimeout(() => r('done'), 20))),
      },
      { stopGraceMs: 10_000 },
    );
    const task = (Resource: string, extra: object) => ({ Type: 'Task', Resource, ...extra });
    const one = { StartAt: 'S', States: { S: task('slow', { End: true }) } };
    // The second execution's next task comes up while the stop waits for the first's action. Its deadline
    // must not run while the process is down: it is not even recorded as started until it starts.
    const two = {
      StartAt: 'Q',
      States: { Q: task('quick', { Next: 'N' }), N: task('next', { TimeoutSeconds: 3600, End: true }) },
    };
    const x = (await fx.engine.startExecution(one as never, {}, { name: 'x' })).executionId;
    const y = (await fx.engine.startExecution(two as never, {}, { name: 'y' })).executionId;
    await idle(10);
    expect(calls.sort()).toEqual(['quick', 'slow']);
    const stopped = fx.engine.stop();
    await new Promise((r) => setTimeout(r, 100)); // quick finishes; N comes up and holds
    finish!('made it');
    expect(await stopped).toEqual({ cutOff: 0 });
    expect(cut).toBe(false);
    expect(calls).toHaveLength(2); // N did not start while stopping
    const started = async (id: string) =>
      (await fx!.engine.history(id)).filter((e) => e.type === 'TaskStarted').length;
    expect(await fx.engine.history(x)).toContainEqual(expect.objectContaining({ type: 'TaskSucceeded' }));
    expect([await started(x), await started(y)]).toEqual([1, 1]); // S and Q; not N

    fx.clock.advance(2 * 3_600_000); // down for two hours, longer than N's TimeoutSeconds
    await fx.restart();
    await fx.settle(y);
    expect(await fx.store.getExecution(x)).toMatchObject({ status: 'SUCCEEDED', output: 'made it' });
    expect(await fx.store.getExecution(y)).toMatchObject({ status: 'SUCCEEDED', output: 'done' });
    expect(calls.sort()).toEqual(['next', 'quick', 'slow']); // each once
  });

  it('a stop does not wait for a read-only action: cut off, it is simply asked again after the restart', async () => {
    let cut = false;
    const handlers = {
      probe: (_i: unknown, ctx: ActionContext) =>
        new Promise((_r, reject) =>
          ctx.signal.addEventListener('abort', () => ((cut = true), reject(new Error('cut')))),
        ),
    };
    const runner = Object.assign(new HandlerRunner(handlers), {
      readOnly: (name: string) => name === 'probe',
    });
    fx = new Fixture(handlers, { stopGraceMs: 60_000, runner });
    const def = { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'probe', End: true } } };
    await fx.engine.startExecution(def as never, {});
    await idle(10);
    expect(await fx.engine.stop()).toEqual({ cutOff: 0 }); // at once, not after a minute
    expect(cut).toBe(true);
  });

  it('a stop cuts off what is still running when its grace period ends, and says how many', async () => {
    let cut = false;
    fx = new Fixture(
      {
        stuck: (_i, ctx) =>
          new Promise((_r, reject) =>
            ctx.signal.addEventListener('abort', () => ((cut = true), reject(new Error('cut')))),
          ),
      },
      { stopGraceMs: 50 },
    );
    const def = { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'stuck', End: true } } };
    const { executionId } = await fx.engine.startExecution(def as never, {});
    await idle(10);
    expect(await fx.engine.stop()).toEqual({ cutOff: 1 });
    expect(cut).toBe(true);
    expect((await fx.store.getExecution(executionId))!.status).toBe('RUNNING'); // resumes after a restart
  });

  it('stop: the running task sees the abort and history records ExecutionAborted', async () => {
    let aborted = false;
    fx = new Fixture({
      slow: (_i, ctx) =>
        new Promise((_r, rej) =>
          ctx.signal.addEventListener('abort', () => ((aborted = true), rej(new Error('x')))),
        ),
    });
    const def = { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'slow', End: true } } };
    const { executionId } = await fx.engine.startExecution(def as never, {});
    await idle(10);
    const rec = await fx.engine.stopExecution(executionId, 'Operator', 'stopped by test');
    expect(rec).toMatchObject({ status: 'ABORTED', error: 'Operator', cause: 'stopped by test' });
    expect(aborted).toBe(true);
    expect((await fx.engine.history(executionId)).at(-1)).toMatchObject({
      type: 'ExecutionAborted',
      executionAbortedEventDetails: { error: 'Operator', cause: 'stopped by test' },
    });
    await expect(fx.engine.stopExecution(executionId)).rejects.toMatchObject({ code: 'ILLEGAL_TRANSITION' });
  });

  it('redrive re-runs the failed state only; succeeded states are not run again', async () => {
    const calls: string[] = [];
    let broken = true;
    fx = new Fixture({
      first: () => (calls.push('first'), 1),
      second: () => (
        calls.push('second'),
        broken ? Promise.reject(Object.assign(new Error('down'), { name: 'Down' })) : 2
      ),
    });
    const def = {
      StartAt: 'A',
      States: {
        A: { Type: 'Task', Resource: 'first', ResultPath: '$.a', Next: 'B' },
        B: { Type: 'Task', Resource: 'second', ResultPath: '$.b', End: true },
      },
    };
    const { executionId } = await fx.engine.startExecution(def as never, {});
    await fx.settle(executionId);
    expect(await fx.store.getExecution(executionId)).toMatchObject({ status: 'FAILED', error: 'Down' });
    broken = false;
    await fx.engine.redrive(executionId);
    await fx.settle(executionId);
    expect(await fx.store.getExecution(executionId)).toMatchObject({
      status: 'SUCCEEDED',
      output: { a: 1, b: 2 },
      redriveCount: 1,
    });
    expect(calls).toEqual(['first', 'second', 'second']);
    const types = (await fx.engine.history(executionId)).map((e) => e.type);
    expect(types).toContain('ExecutionRedriven');
    await expect(fx.engine.redrive(executionId)).rejects.toMatchObject({ code: 'ILLEGAL_TRANSITION' });
  });

  it('resumed after its machine deadline, an execution times out before any new task acts', async () => {
    const calls: string[] = [];
    fx = new Fixture({ work: (_i, ctx: ActionContext) => (calls.push(ctx.idempotencyKey), 'done') });
    const def = { ...waitThenTask, TimeoutSeconds: 5400 }; // Wait 3600 s, then the task
    const { executionId } = await fx.engine.startExecution(def as never, {});
    await idle(10);
    await fx.engine.stop();
    fx.clock.advance(7200_000); // down for two hours: the Wait and the deadline both passed meanwhile
    await fx.restart();
    await fx.settle(executionId);
    expect(await fx.store.getExecution(executionId)).toMatchObject({ status: 'TIMED_OUT' });
    expect(calls).toEqual([]);
  });

  it('a redrive restarts the machine TimeoutSeconds from the redrive', async () => {
    fx = new Fixture({ work: () => 'done' });
    const def = {
      TimeoutSeconds: 60,
      StartAt: 'W',
      States: {
        W: { Type: 'Wait', Seconds: 30, Next: 'X' },
        X: { Type: 'Wait', SecondsPath: '$.wait', Next: 'T' },
        T: { Type: 'Task', Resource: 'work', End: true },
      },
    };
    const { executionId } = await fx.engine.startExecution(def as never, { wait: 45 });
    await fx.settle(executionId);
    expect(await fx.store.getExecution(executionId)).toMatchObject({ status: 'TIMED_OUT' });
    fx.clock.advance(600_000);
    await fx.engine.redrive(executionId);
    await fx.settle(executionId);
    // X's 45 s wait is re-run; 45 s fits in a fresh 60 s budget, not in what was left of the first one.
    expect(await fx.store.getExecution(executionId)).toMatchObject({ status: 'SUCCEEDED', output: 'done' });
  });

  it('one run per execution: a redrive racing the reaper requests the failed task once', async () => {
    const calls: string[] = [];
    let broken = true;
    fx = new Fixture({
      work: (_i, ctx: ActionContext) => {
        calls.push(ctx.idempotencyKey);
        return broken
          ? Promise.reject(Object.assign(new Error('down'), { name: 'Down' }))
          : new Promise(() => undefined);
      },
    });
    const def = { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'work', End: true } } };
    const { executionId } = await fx.engine.startExecution(def as never, {});
    await fx.settle(executionId);
    broken = false;
    calls.length = 0;
    await Promise.all([fx.engine.redrive(executionId), fx.engine.reap()]);
    await idle(20);
    expect(calls).toHaveLength(1);
    expect(fx.engine.active).toBe(1);
  });

  it('a Pass loop stops at the abort instead of running on', async () => {
    fx = new Fixture({});
    const def = {
      StartAt: 'Loop',
      States: {
        Loop: { Type: 'Pass', Next: 'Check' },
        Check: { Type: 'Choice', Choices: [{ Variable: '$.go', BooleanEquals: true, Next: 'Loop' }] },
      },
    };
    const { executionId } = await fx.engine.startExecution(def as never, { go: true });
    await idle(2);
    const rec = await fx.engine.stopExecution(executionId, 'Operator', 'runaway loop');
    expect(rec).toMatchObject({ status: 'ABORTED' });
    // Left alone, the same loop ends at Step Functions' history quota instead of growing forever.
    const runaway = await fx.engine.startExecution(def as never, { go: true });
    await fx.settle(runaway.executionId);
    expect(await fx.store.getExecution(runaway.executionId)).toMatchObject({
      status: 'FAILED',
      error: 'States.Runtime',
      cause: expect.stringMatching(/history reached 25000 events/),
    });
    expect((await fx.engine.history(runaway.executionId)).length).toBe(MAX_HISTORY_EVENTS + 1);
  });

  it('the reaper resumes executions whose worker died (lease expired) under a new worker id', async () => {
    fx = new Fixture({ work: () => 'done' });
    const { executionId } = await fx.engine.startExecution(waitThenTask as never, {});
    await idle(10);
    await fx.restart({ workerId: 'worker-b', leaseMs: 10_000 });
    expect(fx.engine.active).toBe(0);
    fx.clock.advance(61_000);
    expect(await fx.engine.reap()).toBe(1);
    fx.clock.advance(3600_000);
    await fx.settle(executionId);
    expect(await fx.store.getExecution(executionId)).toMatchObject({
      status: 'SUCCEEDED',
      output: 'done',
      owner: undefined,
    });
  });

  it('runs many executions concurrently in one process', async () => {
    fx = new Fixture({ work: async (i) => i });
    const def = {
      StartAt: 'T',
      States: {
        T: { Type: 'Task', Resource: 'work', Next: 'W' },
        W: { Type: 'Wait', Seconds: 1, End: true },
      },
    };
    const started = await Promise.all(
      Array.from({ length: 200 }, (_v, i) => fx!.engine.startExecution(def as never, i)),
    );
    expect(fx.engine.active).toBe(200);
    for (const s of started) await fx.settle(s.executionId);
    const page = await fx.engine.list({ status: 'SUCCEEDED', limit: 150 });
    expect(page.items).toHaveLength(150);
    const rest = await fx.engine.list({ status: 'SUCCEEDED', limit: 150, cursor: page.nextCursor });
    expect(rest.items).toHaveLength(50);
    expect(rest.nextCursor).toBeUndefined();
  });
});
