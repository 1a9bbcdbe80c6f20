import { afterEach, describe, expect, it } from 'vitest';
import { decideRetry, errorMatches } from '../../src/workflows/retry.ts';
import { Fixture, run } from './support.ts';

const failing = (errors: string[]) => {
  let i = 0;
  return () => {
    const name = errors[i++];
    if (name === undefined) return Promise.resolve({ ok: true, calls: i });
    return Promise.reject(Object.assign(new Error(`failure ${i}`), { name }));
  };
};

/**
 * A Map iteration's task that takes `delayMs`, fails every third item (error `Bad`) and answers `result` for
 * the others; `peak` is the most iterations it saw running at once.
 */
function mapItems(delayMs: number, result: (i: number) => unknown) {
  let active = 0;
  const probe = {
    peak: 0,
    work: async (i: unknown) => {
      active += 1;
      probe.peak = Math.max(probe.peak, active);
      await new Promise((r) => setTimeout(r, delayMs));
      active -= 1;
      if ((i as number) % 3 === 0) throw Object.assign(new Error('bad item'), { name: 'Bad' });
      return result(i as number);
    },
  };
  return probe;
}

describe('error matching', () => {
  it('States.ALL matches everything but States.Runtime', () => {
    expect(errorMatches(['States.ALL'], 'Custom')).toBe(true);
    expect(errorMatches(['States.ALL'], 'States.Timeout')).toBe(true);
    expect(errorMatches(['States.ALL'], 'States.Runtime')).toBe(false);
  });
  it('States.TaskFailed matches everything but timeouts and States.Runtime', () => {
    expect(errorMatches(['States.TaskFailed'], 'Custom')).toBe(true);
    expect(errorMatches(['States.TaskFailed'], 'States.Timeout')).toBe(false);
    expect(errorMatches(['States.TaskFailed'], 'States.HeartbeatTimeout')).toBe(false);
    expect(errorMatches(['States.Timeout'], 'States.HeartbeatTimeout')).toBe(true);
  });
  it('backoff: IntervalSeconds × BackoffRate^n capped by MaxDelaySeconds; FULL jitter stays below it', () => {
    const r = [
      { ErrorEquals: ['E'], IntervalSeconds: 2, BackoffRate: 3, MaxAttempts: 5, MaxDelaySeconds: 10 },
    ];
    expect(decideRetry(r, 'E', [0], Math.random)).toEqual({ retry: true, retrierIndex: 0, delayMs: 2000 });
    expect(decideRetry(r, 'E', [1], Math.random)).toEqual({ retry: true, retrierIndex: 0, delayMs: 6000 });
    expect(decideRetry(r, 'E', [2], Math.random)).toEqual({ retry: true, retrierIndex: 0, delayMs: 10000 });
    expect(decideRetry(r, 'E', [5], Math.random)).toEqual({ retry: false });
    const j = decideRetry([{ ...r[0]!, JitterStrategy: 'FULL' }], 'E', [1], () => 0.5);
    expect(j).toEqual({ retry: true, retrierIndex: 0, delayMs: 3000 });
    expect(decideRetry([{ ErrorEquals: ['E'], MaxAttempts: 0 }], 'E', [], Math.random)).toEqual({
      retry: false,
    });
    expect(decideRetry([{ ErrorEquals: ['States.ALL'] }], 'States.Runtime', [], Math.random)).toEqual({
      retry: false,
    });
  });
});

describe('Retry and Catch in executions', () => {
  let fx: Fixture | undefined;
  afterEach(async () => fx?.close());

  const retryMachine = (Retry: unknown[], Catch?: unknown[]) => ({
    StartAt: 'T',
    States: {
      T: { Type: 'Task', Resource: 'work', Retry, ...(Catch ? { Catch } : {}), End: true },
      ...(Catch ? { Caught: { Type: 'Pass', End: true } } : {}),
    },
  });

  it('retries with its own counter per retrier and succeeds; RetryCount is in the context', async () => {
    const seen: number[] = [];
    const errors = ['A', 'B', 'A'];
    fx = new Fixture({
      work: (_i, ctx) => {
        const name = errors.shift();
        seen.push(Number(ctx.idempotencyKey.split('/a').pop()));
        return name ? Promise.reject(Object.assign(new Error('x'), { name })) : 'done';
      },
    });
    const def = retryMachine([
      { ErrorEquals: ['A'], MaxAttempts: 2, IntervalSeconds: 5 },
      { ErrorEquals: ['B'], MaxAttempts: 1, IntervalSeconds: 1 },
    ]);
    const { executionId } = await fx.engine.startExecution(def as never, {});
    await fx.settle(executionId);
    const rec = await fx.store.getExecution(executionId);
    expect(rec).toMatchObject({ status: 'SUCCEEDED', output: 'done' });
    expect(seen).toEqual([0, 1, 2, 3]);
    const types = (await fx.engine.history(executionId))
      .map((e) => e.type)
      .filter((t) => t.startsWith('Task'));
    expect(types.filter((t) => t === 'TaskFailed')).toHaveLength(3);
  });

  it('the backoff is a durable timer: nothing happens before it is due', async () => {
    const work = failing(['E']);
    let calls = 0;
    fx = new Fixture({ work: () => (calls++, work()) });
    const { executionId } = await fx.engine.startExecution(
      retryMachine([{ ErrorEquals: ['E'], IntervalSeconds: 30 }]) as never,
      {},
    );
    for (let i = 0; i < 20; i += 1) await new Promise((r) => setImmediate(r));
    expect(calls).toBe(1);
    fx.clock.advance(29_000);
    for (let i = 0; i < 20; i += 1) await new Promise((r) => setImmediate(r));
    expect(calls).toBe(1);
    fx.clock.advance(1_000);
    await fx.settle(executionId);
    expect(calls).toBe(2);
    expect(await fx.store.loadTimers(executionId)).toEqual([
      expect.objectContaining({ fireAt: expect.any(Number), firedAt: expect.any(Number) }),
    ]);
  });

  it('an exhausted retrier goes to Catch, never to a later retrier; MaxAttempts 0 never retries', async () => {
    const r = await run(
      retryMachine(
        [
          { ErrorEquals: ['E'], MaxAttempts: 0 },
          { ErrorEquals: ['States.ALL'], MaxAttempts: 5 },
        ],
        [{ ErrorEquals: ['E'], Next: 'Caught', ResultPath: '$.err' }],
      ),
      { keep: 1 },
      { work: failing(['E', 'E']) },
    );
    expect(r).toMatchObject({
      status: 'SUCCEEDED',
      output: { keep: 1, err: { Error: 'E', Cause: 'failure 1' } },
    });
  });

  it('Catch: first matching catcher wins, States.ALL last, default ResultPath replaces the input', async () => {
    const def = retryMachine(
      [],
      [
        { ErrorEquals: ['Other'], Next: 'Caught' },
        { ErrorEquals: ['States.TaskFailed'], Next: 'Caught' },
        { ErrorEquals: ['States.ALL'], Next: 'Caught', ResultPath: '$.never' },
      ],
    );
    const r = await run(def, { x: 1 }, { work: failing(['Boom']) });
    expect(r.output).toEqual({ Error: 'Boom', Cause: 'failure 1' });
  });

  it('uncaught failures fail the execution with the task error; States.Runtime is never retried or caught by States.ALL', async () => {
    expect(await run(retryMachine([]), {}, { work: failing(['Boom']) })).toMatchObject({
      status: 'FAILED',
      error: 'Boom',
      cause: 'failure 1',
    });
    const def = {
      StartAt: 'T',
      States: {
        T: {
          Type: 'Task',
          Resource: 'work',
          InputPath: '$.missing',
          Retry: [{ ErrorEquals: ['States.ALL'] }],
          Catch: [{ ErrorEquals: ['States.ALL'], Next: 'C' }],
          End: true,
        },
        C: { Type: 'Succeed' },
      },
    };
    expect(await run(def, {}, { work: () => 1 })).toMatchObject({
      status: 'FAILED',
      error: 'States.Runtime',
    });
  });

  it('an action throwing {error, cause} names the error that Retry/Catch see', async () => {
    const def = retryMachine([], [{ ErrorEquals: ['Rebound.Throttled'], Next: 'Caught' }]);
    const r = await run(
      def,
      {},
      { work: () => Promise.reject({ error: 'Rebound.Throttled', cause: 'slow down' }) },
    );
    expect(r.output).toEqual({ Error: 'Rebound.Throttled', Cause: 'slow down' });
  });

  it('Parallel: a failing branch fails the state with its error; Retry re-runs the state', async () => {
    const fail = failing(['E']);
    const def = {
      StartAt: 'P',
      States: {
        P: {
          Type: 'Parallel',
          Retry: [{ ErrorEquals: ['E'], IntervalSeconds: 1 }],
          Branches: [
            { StartAt: 'A', States: { A: { Type: 'Task', Resource: 'work', End: true } } },
            { StartAt: 'B', States: { B: { Type: 'Pass', Result: 'b', End: true } } },
          ],
          ResultSelector: { 'a.$': '$[0].ok', 'b.$': '$[1]' },
          End: true,
        },
      },
    };
    fx = new Fixture({ work: fail });
    const { executionId } = await fx.engine.startExecution(def as never, {});
    await fx.settle(executionId);
    expect(await fx.store.getExecution(executionId)).toMatchObject({
      status: 'SUCCEEDED',
      output: { a: true, b: 'b' },
    });
    const types = (await fx.engine.history(executionId)).map((e) => e.type);
    expect(types).toContain('ParallelStateFailed');
    expect(types).toContain('ParallelStateSucceeded');
  });

  it('Map: MaxConcurrency bounds concurrency; tolerated failures; exceeding them fails with ExceedToleratedFailureThreshold', async () => {
    const items = mapItems(5, (i) => i * 10);
    const { work } = items;
    const map = (extra: object) => ({
      StartAt: 'M',
      States: {
        M: {
          Type: 'Map',
          MaxConcurrency: 2,
          ItemProcessor: { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'work', End: true } } },
          End: true,
          ...extra,
        },
      },
    });
    const ok = await run(map({ ToleratedFailureCount: 2 }), [1, 2, 3, 4, 5, 6], { work });
    expect(ok.output).toEqual([
      10,
      20,
      { Error: 'Bad', Cause: 'bad item' },
      40,
      50,
      { Error: 'Bad', Cause: 'bad item' },
    ]);
    expect(items.peak).toBe(2);
    expect(await run(map({ ToleratedFailurePercentage: 10 }), [1, 2, 3], { work })).toMatchObject({
      status: 'FAILED',
      error: 'States.ExceedToleratedFailureThreshold',
    });
    expect(await run(map({}), [1, 3], { work })).toMatchObject({ status: 'FAILED', error: 'Bad' });
    expect((await run(map({}), [], { work })).output).toEqual([]);
  });

  it('Map: MaxConcurrencyPath and ToleratedFailureCountPath take numbers or numeric strings, as Step Functions does', async () => {
    const items = mapItems(2, (i) => i);
    const { work } = items;
    const def = {
      StartAt: 'M',
      States: {
        M: {
          Type: 'Map',
          ItemsPath: '$.items',
          MaxConcurrencyPath: '$.limit',
          ToleratedFailureCountPath: '$.tolerate',
          ItemProcessor: { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'work', End: true } } },
          End: true,
        },
      },
    };
    const ok = await run(def, { items: [1, 2, 3, 4], limit: '1', tolerate: '1' }, { work });
    expect(ok.output).toEqual([1, 2, { Error: 'Bad', Cause: 'bad item' }, 4]);
    expect(items.peak).toBe(1);
    items.peak = 0;
    expect((await run(def, { items: [1, 2, 4], limit: 2, tolerate: 0 }, { work })).status).toBe('SUCCEEDED');
    expect(items.peak).toBe(2);
    expect(await run(def, { items: [1], limit: 'two', tolerate: 0 }, { work })).toMatchObject({
      status: 'FAILED',
      error: 'States.Runtime',
      cause: 'M: MaxConcurrency must be a non-negative number, got "two"',
    });
  });

  it('a state output over 256 KiB fails the execution with States.DataLimitExceeded, which States.ALL does not catch', async () => {
    const big = 'a'.repeat(263_168);
    const pass = { StartAt: 'S', States: { S: { Type: 'Pass', Result: { Arg1: big }, End: true } } };
    expect(await run(pass, {})).toMatchObject({
      status: 'FAILED',
      error: 'States.DataLimitExceeded',
      cause:
        "The state/task 'S' returned a result with a size exceeding the maximum number of bytes service limit.",
    });
    const task = retryMachine(
      [{ ErrorEquals: ['States.ALL'], MaxAttempts: 2, IntervalSeconds: 0 }],
      [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }],
    );
    let calls = 0;
    const r = await run(task, {}, { work: () => (calls++, { big }) });
    expect(r).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(calls).toBe(1);
    // Just under the quota passes.
    const under = { StartAt: 'S', States: { S: { Type: 'Pass', Result: 'b'.repeat(200_000), End: true } } };
    expect((await run(under, {})).status).toBe('SUCCEEDED');
  });

  it('a task result JSON cannot hold fails the task (retried, caught); a Date comes through as replay reads it', async () => {
    const machine = retryMachine(
      [{ ErrorEquals: ['States.TaskFailed'], MaxAttempts: 1, IntervalSeconds: 0 }],
      [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }],
    );
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    for (const [result, reason] of [
      [10n, 'BigInt'],
      [cycle, 'circular'],
    ] as const) {
      let calls = 0;
      const r = await run(machine, {}, { work: () => (calls++, result) });
      expect(r.status).toBe('SUCCEEDED');
      expect(r.output).toMatchObject({ Error: 'States.TaskFailed' });
      expect((r.output as { Cause: string }).Cause).toMatch(
        new RegExp(`^the task's result is not JSON: .*${reason}`),
      );
      expect(calls).toBe(2);
    }
    const at = new Date('2026-11-27T08:00:00Z');
    const dated = await run(machine, {}, { work: () => ({ at, gone: undefined }) });
    expect(dated).toMatchObject({ status: 'SUCCEEDED', output: { at: '2026-11-27T08:00:00.000Z' } });
    expect(dated.output).not.toHaveProperty('gone');
  });

  it('Map: many iterations in flight at once raise no listener warning (one abort listener each is by design)', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const slow = async (i: unknown) => {
        await new Promise((r) => setTimeout(r, 5));
        return i;
      };
      const items = Array.from({ length: 25 }, (_, i) => i);
      const result = await run(
        {
          StartAt: 'M',
          States: {
            M: {
              Type: 'Map',
              ItemProcessor: { StartAt: 'T', States: { T: { Type: 'Task', Resource: 'slow', End: true } } },
              End: true,
            },
          },
        },
        items,
        { slow },
      );
      expect(result.output).toEqual(items);
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
