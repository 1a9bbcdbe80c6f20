import { describe, expect, it } from 'vitest';
import { run, single } from './support.ts';

describe('JSONPath data flow', () => {
  it('Pass: Result, ResultPath into the input, OutputPath', async () => {
    const r = await run(
      single({ Type: 'Pass', Result: { x: 1 }, ResultPath: '$.res', OutputPath: '$.res' }),
      { a: 1 },
    );
    expect(r).toMatchObject({ status: 'SUCCEEDED', output: { x: 1 } });
  });

  it('InputPath null gives {}, ResultPath null passes the input through, OutputPath null gives {}', async () => {
    expect((await run(single({ Type: 'Pass', InputPath: null }), { a: 1 })).output).toEqual({});
    expect((await run(single({ Type: 'Pass', Result: 5, ResultPath: null }), { a: 1 })).output).toEqual({
      a: 1,
    });
    expect((await run(single({ Type: 'Pass', OutputPath: null }), { a: 1 })).output).toEqual({});
  });

  it('Parameters with .$ paths, context object, nested templates and arrays', async () => {
    const def = single({
      Type: 'Pass',
      Parameters: {
        'name.$': '$.user.name',
        'state.$': '$$.State.Name',
        'exec.$': '$$.Execution.Input.user.id',
        nested: { 'first.$': '$.list[0]', literal: 'x' },
        arr: [{ 'v.$': '$.list[1]' }, 3],
        'all.$': '$.list[*]',
      },
    });
    const r = await run(def, { user: { name: 'ann', id: 7 }, list: [10, 20] });
    expect(r.output).toEqual({
      name: 'ann',
      state: 'S',
      exec: 7,
      nested: { first: 10, literal: 'x' },
      arr: [{ v: 20 }, 3],
      all: [10, 20],
    });
  });

  it('the context object: RetryCount only in states that retry, Execution.RoleArn present, as in Step Functions', async () => {
    const pass = await run(
      single({ Type: 'Pass', Parameters: { 'state.$': '$$.State', 'role.$': '$$.Execution.RoleArn' } }),
      {},
    );
    expect(Object.keys((pass.output as { state: object }).state).sort()).toEqual(['EnteredTime', 'Name']);
    expect((pass.output as { role: string }).role).toBe('');
    const task = await run(
      single({ Type: 'Task', Resource: 'echo', Parameters: { 'state.$': '$$.State' } }),
      {},
      { echo: (input) => input },
    );
    expect((task.output as { state: object }).state).toMatchObject({ Name: 'S', RetryCount: 0 });
  });

  it('a Fail state without Error or Cause leaves them out of the execution, as Step Functions does', async () => {
    const r = await run({ StartAt: 'F', States: { F: { Type: 'Fail', Cause: 'Condition is false' } } }, {});
    expect(r).toMatchObject({ status: 'FAILED', error: null, cause: 'Condition is false' });
    expect(r.history.at(-1)).toMatchObject({
      type: 'ExecutionFailed',
      executionFailedEventDetails: { cause: 'Condition is false' },
    });
    expect(r.history.at(-1)!.executionFailedEventDetails).not.toHaveProperty('error');
  });

  it('a missing Parameters path fails with States.ParameterPathFailure; a missing InputPath with States.Runtime', async () => {
    expect(await run(single({ Type: 'Pass', Parameters: { 'a.$': '$.nope' } }), {})).toMatchObject({
      status: 'FAILED',
      error: 'States.ParameterPathFailure',
    });
    expect(await run(single({ Type: 'Pass', InputPath: '$.nope' }), {})).toMatchObject({
      status: 'FAILED',
      error: 'States.Runtime',
    });
  });

  it('ResultPath creates intermediate objects and fails on a non-object', async () => {
    expect((await run(single({ Type: 'Pass', Result: 1, ResultPath: '$.a.b.c' }), { z: 0 })).output).toEqual({
      z: 0,
      a: { b: { c: 1 } },
    });
    expect(await run(single({ Type: 'Pass', Result: 1, ResultPath: '$.a.b' }), { a: 5 })).toMatchObject({
      status: 'FAILED',
      error: 'States.ResultPathMatchFailure',
    });
  });

  it('Task: InputPath → Parameters → ResultSelector → ResultPath → OutputPath, in that order', async () => {
    const seen: unknown[] = [];
    const def = single({
      Type: 'Task',
      Resource: 'echo',
      InputPath: '$.in',
      Parameters: { 'v.$': '$.value' },
      ResultSelector: { 'doubled.$': '$.v' },
      ResultPath: '$.result',
      OutputPath: '$.result',
    });
    const r = await run(def, { in: { value: 4 }, other: true }, { echo: (i) => (seen.push(i), i) });
    expect(seen).toEqual([{ v: 4 }]);
    expect(r.output).toEqual({ doubled: 4 });
  });

  it('the context object carries execution, state, retry count and map item', async () => {
    const def = {
      StartAt: 'M',
      States: {
        M: {
          Type: 'Map',
          ItemSelector: { 'i.$': '$$.Map.Item.Index', 'v.$': '$$.Map.Item.Value', 'outer.$': '$.k' },
          ItemProcessor: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } },
          ItemsPath: '$.items',
          End: true,
        },
      },
    };
    const r = await run(def, { k: 'K', items: ['a', 'b'] });
    expect(r.output).toEqual([
      { i: 0, v: 'a', outer: 'K' },
      { i: 1, v: 'b', outer: 'K' },
    ]);
  });

  it('variables: Assign from the result, visible to later states, evaluated against old values', async () => {
    const def = {
      StartAt: 'A',
      States: {
        A: { Type: 'Pass', Result: { n: 1 }, Assign: { 'x.$': '$.n', y: 'lit' }, Next: 'B' },
        B: { Type: 'Pass', Assign: { 'x.$': 'States.MathAdd($x, 1)', 'old.$': '$x' }, Next: 'C' },
        C: { Type: 'Pass', Parameters: { 'x.$': '$x', 'y.$': '$y', 'old.$': '$old' }, End: true },
      },
    };
    expect((await run(def, {})).output).toEqual({ x: 2, y: 'lit', old: 1 });
  });

  it('variables inside Parallel branches read outer ones and do not leak out', async () => {
    const def = {
      StartAt: 'A',
      States: {
        A: { Type: 'Pass', Assign: { v: 'outer' }, Next: 'P' },
        P: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'B',
              States: {
                B: { Type: 'Pass', Assign: { inner: 1 }, Next: 'C' },
                C: { Type: 'Pass', Parameters: { 'v.$': '$v', 'inner.$': '$inner' }, End: true },
              },
            },
          ],
          Next: 'D',
        },
        D: { Type: 'Pass', Parameters: { 'v.$': '$v', 'p.$': '$[0]' }, End: true },
      },
    };
    expect((await run(def, {})).output).toEqual({ v: 'outer', p: { v: 'outer', inner: 1 } });
  });
});

describe('Wait, Succeed, Fail', () => {
  it('Wait with Seconds 0, SecondsPath, a past Timestamp and TimestampPath pass the input through', async () => {
    for (const state of [
      { Seconds: 0 },
      { SecondsPath: '$.s' },
      { Timestamp: '2001-01-01T00:00:00Z' },
      { TimestampPath: '$.t' },
    ]) {
      const r = await run(single({ Type: 'Wait', ...state }), { s: 0, t: '2000-01-01T00:00:00.5+01:00' });
      expect(r).toMatchObject({ status: 'SUCCEEDED', output: { s: 0, t: '2000-01-01T00:00:00.5+01:00' } });
    }
  });

  it('Wait with a bad SecondsPath value fails with States.Runtime', async () => {
    expect(await run(single({ Type: 'Wait', SecondsPath: '$.s' }), { s: 'x' })).toMatchObject({
      error: 'States.Runtime',
    });
  });

  it('Succeed applies InputPath and OutputPath', async () => {
    const r = await run(
      { StartAt: 'S', States: { S: { Type: 'Succeed', InputPath: '$.a', OutputPath: '$.b' } } },
      { a: { b: 3 } },
    );
    expect(r.output).toBe(3);
  });

  it('Fail with Error/Cause, ErrorPath/CausePath and an intrinsic', async () => {
    const f = (state: object) => ({ StartAt: 'F', States: { F: { Type: 'Fail', ...state } } });
    expect(await run(f({ Error: 'E', Cause: 'C' }))).toMatchObject({
      status: 'FAILED',
      error: 'E',
      cause: 'C',
    });
    expect(
      await run(f({ ErrorPath: '$.e', CausePath: "States.Format('bad {}', $.n)" }), { e: 'Custom', n: 3 }),
    ).toMatchObject({
      error: 'Custom',
      cause: 'bad 3',
    });
    const r = await run(f({ Error: 'E' }));
    expect(r.history.map((e) => e.type)).toEqual(['ExecutionStarted', 'FailStateEntered', 'ExecutionFailed']);
  });
});

describe('Choice', () => {
  const choice = (rule: object) => ({
    StartAt: 'C',
    States: {
      C: { Type: 'Choice', Choices: [{ ...rule, Next: 'Yes' }], Default: 'No' },
      Yes: { Type: 'Pass', Result: 'yes', End: true },
      No: { Type: 'Pass', Result: 'no', End: true },
    },
  });
  const input = {
    s: 'b',
    n: 2,
    t: true,
    ts: '2020-01-02T00:00:00Z',
    nul: null,
    other: { s: 'b', n: 2, t: true, ts: '2020-01-02T00:00:00Z' },
    lo: { s: 'a', n: 1, ts: '2020-01-01T00:00:00Z' },
  };
  const cases: [object, string][] = [
    [{ Variable: '$.s', StringEquals: 'b' }, 'yes'],
    [{ Variable: '$.s', StringEquals: 'c' }, 'no'],
    [{ Variable: '$.s', StringLessThan: 'c' }, 'yes'],
    [{ Variable: '$.s', StringGreaterThan: 'a' }, 'yes'],
    [{ Variable: '$.s', StringLessThanEquals: 'b' }, 'yes'],
    [{ Variable: '$.s', StringGreaterThanEquals: 'c' }, 'no'],
    [{ Variable: '$.s', StringMatches: '*' }, 'yes'],
    [{ Variable: '$.ts', StringMatches: '2020-*-02T*' }, 'yes'],
    [{ Variable: '$.n', NumericEquals: 2 }, 'yes'],
    [{ Variable: '$.n', NumericLessThan: 2 }, 'no'],
    [{ Variable: '$.n', NumericGreaterThan: 1 }, 'yes'],
    [{ Variable: '$.n', NumericLessThanEquals: 2 }, 'yes'],
    [{ Variable: '$.n', NumericGreaterThanEquals: 3 }, 'no'],
    [{ Variable: '$.s', NumericEquals: 2 }, 'no'],
    [{ Variable: '$.t', BooleanEquals: true }, 'yes'],
    [{ Variable: '$.ts', TimestampEquals: '2020-01-02T00:00:00Z' }, 'yes'],
    [{ Variable: '$.ts', TimestampLessThan: '2020-01-03T00:00:00Z' }, 'yes'],
    [{ Variable: '$.ts', TimestampGreaterThan: '2020-01-03T00:00:00Z' }, 'no'],
    [{ Variable: '$.ts', TimestampLessThanEquals: '2020-01-02T00:00:00Z' }, 'yes'],
    [{ Variable: '$.ts', TimestampGreaterThanEquals: '2020-01-02T01:00:00+01:00' }, 'yes'],
    [{ Variable: '$.s', StringEqualsPath: '$.other.s' }, 'yes'],
    [{ Variable: '$.s', StringLessThanPath: '$.lo.s' }, 'no'],
    [{ Variable: '$.s', StringGreaterThanPath: '$.lo.s' }, 'yes'],
    [{ Variable: '$.s', StringLessThanEqualsPath: '$.other.s' }, 'yes'],
    [{ Variable: '$.s', StringGreaterThanEqualsPath: '$.other.s' }, 'yes'],
    [{ Variable: '$.n', NumericEqualsPath: '$.other.n' }, 'yes'],
    [{ Variable: '$.n', NumericLessThanPath: '$.lo.n' }, 'no'],
    [{ Variable: '$.n', NumericGreaterThanPath: '$.lo.n' }, 'yes'],
    [{ Variable: '$.n', NumericLessThanEqualsPath: '$.other.n' }, 'yes'],
    [{ Variable: '$.n', NumericGreaterThanEqualsPath: '$.other.n' }, 'yes'],
    [{ Variable: '$.t', BooleanEqualsPath: '$.other.t' }, 'yes'],
    [{ Variable: '$.ts', TimestampEqualsPath: '$.other.ts' }, 'yes'],
    [{ Variable: '$.ts', TimestampLessThanPath: '$.lo.ts' }, 'no'],
    [{ Variable: '$.ts', TimestampGreaterThanPath: '$.lo.ts' }, 'yes'],
    [{ Variable: '$.ts', TimestampLessThanEqualsPath: '$.other.ts' }, 'yes'],
    [{ Variable: '$.ts', TimestampGreaterThanEqualsPath: '$.other.ts' }, 'yes'],
    [{ Variable: '$.nul', IsNull: true }, 'yes'],
    [{ Variable: '$.s', IsNull: true }, 'no'],
    [{ Variable: '$.missing', IsPresent: false }, 'yes'],
    [{ Variable: '$.s', IsPresent: true }, 'yes'],
    [{ Variable: '$.n', IsNumeric: true }, 'yes'],
    [{ Variable: '$.s', IsString: true }, 'yes'],
    [{ Variable: '$.t', IsBoolean: true }, 'yes'],
    [{ Variable: '$.ts', IsTimestamp: true }, 'yes'],
    [{ Variable: '$.s', IsTimestamp: true }, 'no'],
    [
      {
        And: [
          { Variable: '$.n', NumericEquals: 2 },
          { Variable: '$.s', StringEquals: 'b' },
        ],
      },
      'yes',
    ],
    [
      {
        And: [
          { Variable: '$.n', NumericEquals: 2 },
          { Variable: '$.s', StringEquals: 'x' },
        ],
      },
      'no',
    ],
    [
      {
        Or: [
          { Variable: '$.n', NumericEquals: 9 },
          { Variable: '$.s', StringEquals: 'b' },
        ],
      },
      'yes',
    ],
    [{ Not: { Variable: '$.n', NumericEquals: 9 } }, 'yes'],
  ];
  it.each(cases)('%j → %s', async (rule, expected) => {
    expect((await run(choice(rule), input)).output).toBe(expected);
  });

  it('StringMatches honours escaped \\* literally', async () => {
    expect((await run(choice({ Variable: '$.v', StringMatches: 'a\\*c' }), { v: 'a*c' })).output).toBe('yes');
    expect((await run(choice({ Variable: '$.v', StringMatches: 'a\\*c' }), { v: 'abc' })).output).toBe('no');
  });

  it('no match and no Default fails with States.NoChoiceMatched; a missing Variable with States.Runtime', async () => {
    const def = {
      StartAt: 'C',
      States: {
        C: { Type: 'Choice', Choices: [{ Variable: '$.n', NumericEquals: 1, Next: 'E' }] },
        E: { Type: 'Succeed' },
      },
    };
    expect(await run(def, { n: 2 })).toMatchObject({ status: 'FAILED', error: 'States.NoChoiceMatched' });
    expect(await run(def, {})).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
  });
});
