import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { run } from './support.ts';

const machine = (states: Record<string, unknown>, startAt = Object.keys(states)[0]!) => ({
  QueryLanguage: 'JSONata',
  StartAt: startAt,
  States: states,
});

describe('JSONata', () => {
  it('Arguments, Output, $states.input/result/context', async () => {
    const seen: unknown[] = [];
    const def = machine({
      T: {
        Type: 'Task',
        Resource: 'echo',
        Arguments: {
          sum: '{% $states.input.a + $states.input.b %}',
          state: '{% $states.context.State.Name %}',
          lit: 'x',
        },
        Output: { got: '{% $states.result.sum %}', input: '{% $states.input.a %}' },
        End: true,
      },
    });
    const r = await run(def, { a: 1, b: 2 }, { echo: (i) => (seen.push(i), i) });
    expect(seen).toEqual([{ sum: 3, state: 'T', lit: 'x' }]);
    expect(r.output).toEqual({ got: 3, input: 1 });
  });

  it('Assign: new values are visible after the state; all Assign expressions see the old values', async () => {
    const def = machine({
      A: { Type: 'Pass', Assign: { x: 1, y: '{% $states.input.y %}' }, Next: 'B' },
      B: { Type: 'Pass', Assign: { x: '{% $x + 1 %}', prev: '{% $x %}' }, Output: '{% $x %}', Next: 'C' },
      C: {
        Type: 'Pass',
        Output: { x: '{% $x %}', y: '{% $y %}', prev: '{% $prev %}', fromB: '{% $states.input %}' },
        End: true,
      },
    });
    expect((await run(def, { y: 'Y' })).output).toEqual({ x: 2, y: 'Y', prev: 1, fromB: 1 });
  });

  it('Choice with Condition, rule Output and Assign', async () => {
    const def = machine({
      C: {
        Type: 'Choice',
        Choices: [
          {
            Condition: '{% $states.input.n > 5 %}',
            Next: 'Big',
            Output: { size: 'big' },
            Assign: { seen: true },
          },
        ],
        Default: 'Small',
      },
      Big: { Type: 'Pass', Output: '{% $merge([$states.input, {"seen": $seen}]) %}', End: true },
      Small: { Type: 'Pass', Output: 'small', End: true },
    });
    expect((await run(def, { n: 9 })).output).toEqual({ size: 'big', seen: true });
    expect((await run(def, { n: 1 })).output).toBe('small');
  });

  it('Step Functions functions: $partition, $range, $hash, $random, $uuid, $parse', async () => {
    const def = machine({
      P: {
        Type: 'Pass',
        Output: {
          partition: '{% $partition([1,2,3,4,5], 2) %}',
          range: '{% $range(0, 10, 5) %}',
          single: '{% $range(1, 9, 9) %}',
          hash: "{% $hash('abc', 'SHA-256') %}",
          random: '{% $random() %}',
          seeded: '{% $random(42) = $random(42) %}',
          uuid: '{% $uuid() %}',
          parsed: '{% $parse(\'{"a":[1]}\') %}',
        },
        End: true,
      },
    });
    const r = await run(def);
    const out = r.output as Record<string, unknown>;
    expect(out['partition']).toEqual([[1, 2], [3, 4], [5]]);
    expect(out['range']).toEqual([0, 5, 10]);
    expect(out['single']).toBe(1); // a sequence of one is its value, as in Step Functions
    expect(out['hash']).toBe(createHash('sha256').update('abc').digest('hex'));
    expect(out['random']).toBeGreaterThanOrEqual(0);
    expect(out['random']).toBeLessThan(1);
    expect(out['seeded']).toBe(true);
    expect(out['uuid']).toMatch(/^[0-9a-f-]{36}$/);
    expect(out['parsed']).toEqual({ a: [1] });
  });

  it('an evaluation error or an undefined result is States.QueryEvaluationError, catchable', async () => {
    const bad = machine({ P: { Type: 'Pass', Output: '{% $states.input.missing %}', End: true } });
    expect(await run(bad)).toMatchObject({ status: 'FAILED', error: 'States.QueryEvaluationError' });
    const caught = machine({
      T: {
        Type: 'Task',
        Resource: 'boom',
        Catch: [
          {
            ErrorEquals: ['States.ALL'],
            Next: 'H',
            Output: '{% $states.errorOutput %}',
            Assign: { err: '{% $states.errorOutput.Error %}' },
          },
        ],
        End: true,
      },
      H: { Type: 'Pass', Output: { e: '{% $err %}', out: '{% $states.input %}' }, End: true },
    });
    const r = await run(
      caught,
      {},
      { boom: () => Promise.reject(Object.assign(new Error('kaput'), { name: 'Custom' })) },
    );
    expect(r.output).toEqual({ e: 'Custom', out: { Error: 'Custom', Cause: 'kaput' } });
  });

  it('Map with Items and ItemSelector, Wait with an expression, Fail with expressions', async () => {
    const def = machine({
      M: {
        Type: 'Map',
        Items: '{% $states.input.list %}',
        ItemSelector: {
          v: '{% $states.context.Map.Item.Value * 2 %}',
          i: '{% $states.context.Map.Item.Index %}',
        },
        ItemProcessor: { StartAt: 'X', States: { X: { Type: 'Pass', End: true } } },
        Next: 'W',
      },
      W: { Type: 'Wait', Seconds: '{% 0 %}', Next: 'F' },
      F: {
        Type: 'Fail',
        Error: '{% "E" & $string($count($states.input)) %}',
        Cause: '{% $string($states.input[1].v) %}',
      },
    });
    expect(await run(def, { list: [1, 2] })).toMatchObject({ status: 'FAILED', error: 'E2', cause: '4' });
  });

  it('a JSONata state inside a JSONPath machine', async () => {
    const def = {
      StartAt: 'A',
      States: {
        A: { Type: 'Pass', Parameters: { 'v.$': '$.v' }, Next: 'B' },
        B: { Type: 'Pass', QueryLanguage: 'JSONata', Output: '{% $states.input.v & "!" %}', End: true },
      },
    };
    expect((await run(def, { v: 'hi' })).output).toBe('hi!');
  });
  it('a field computed with the wrong kind of value is a QueryEvaluationError, as in Step Functions', async () => {
    const map = (items: string) =>
      machine({
        M: {
          Type: 'Map',
          Items: items,
          ItemProcessor: { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } },
          End: true,
        },
      });
    for (const items of ['{% true %}', '{% {"foo": "bar"} %}', '{% null %}', '{% 1 %}', "{% 'text' %}"])
      expect(await run(map(items), {})).toMatchObject({
        status: 'FAILED',
        error: 'States.QueryEvaluationError',
        cause: expect.stringMatching(/^M: the items to iterate over must be a JSON array/),
      });
    expect(await run(map('{% $fn := function($x){$x} %}'), {})).toMatchObject({
      status: 'FAILED',
      error: 'States.QueryEvaluationError',
      cause:
        "Items: the JSONata expression '$fn := function($x){$x}' returned an unsupported result type (a function)",
    });
    const wait = machine({ W: { Type: 'Wait', Timestamp: '{% $states.input.t %}', End: true } });
    for (const t of ['2016-12-05 21:29:29Z', '2016-12-05T21:29:29', '2016-13-05T21:29:29Z'])
      expect(await run(wait, { t })).toMatchObject({
        status: 'FAILED',
        error: 'States.QueryEvaluationError',
      });
    // A path that selects the wrong kind of value stays States.Runtime.
    const path = { StartAt: 'W', States: { W: { Type: 'Wait', TimestampPath: '$.t', End: true } } };
    expect(await run(path, { t: '2016-12-05T21:29:29' })).toMatchObject({
      status: 'FAILED',
      error: 'States.Runtime',
    });
  });
});
