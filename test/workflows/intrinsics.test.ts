import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { evaluateIntrinsic } from '../../src/workflows/intrinsics.ts';
import type { PathScope } from '../../src/workflows/path.ts';
import { StatesError } from '../../src/workflows/errors.ts';
import { seededRandom } from '../../src/workflows/random.ts';
import { run, single } from './support.ts';

const scope = (data: unknown = {}): PathScope => ({
  data: data as never,
  context: { State: { Name: 'S' } },
  variable: (n) => (n === 'v' ? 'var' : undefined),
  random: seededRandom('test'),
});
const ev = (expr: string, data: unknown = {}) => evaluateIntrinsic(expr, scope(data));
const failure = (expr: string, data: unknown = {}) => {
  try {
    ev(expr, data);
  } catch (err) {
    expect(err).toBeInstanceOf(StatesError);
    return (err as StatesError).error;
  }
  throw new Error(`${expr} did not fail`);
};

describe('intrinsic functions', () => {
  it('States.Format with strings, numbers, booleans, null, escapes, paths and variables', () => {
    expect(
      ev("States.Format('Hello {}, you are {} ({}) {}', $.name, $.age, true, null)", { name: 'Ann', age: 3 }),
    ).toBe('Hello Ann, you are 3 (true) null');
    expect(ev("States.Format('a \\{\\} b {} \\'q\\'', $v)")).toBe("a {} b var 'q'");
    expect(failure("States.Format('{} {}', 1)")).toBe('States.IntrinsicFailure');
    expect(failure("States.Format('{}', 1, 2)")).toBe('States.IntrinsicFailure');
    // Objects and arrays as Step Functions prints them (Java's map and list form).
    expect(
      ev("States.Format('fst={} and snd={}.', $.a, $.b)", {
        a: { Arg1: 1, Arg2: [] },
        b: ['x', { k: null }],
      }),
    ).toBe('fst={Arg1=1, Arg2=[]} and snd=[x, {k=null}].');
  });

  it('takes exactly the four escapes of the specification, in every function; an open escape is refused', () => {
    // `\\` is a backslash: in a template, and in any other function's string argument.
    expect(ev("States.Format('C:\\\\dir\\\\{} \\{}', $.x)", { x: 'ok' })).toBe('C:\\dir\\ok {}');
    expect(ev("States.StringSplit('a\\\\b,c\\'d', ',')")).toEqual(['a\\b', "c'd"]);
    // An unescaped {} in a literal is text everywhere but a States.Format template.
    expect(ev("States.StringSplit('{},x', ',')")).toEqual(['{}', 'x']);
    expect(failure("States.Format('a\\qb {}', 1)")).toBe('States.IntrinsicFailure');
    expect(failure("States.StringSplit('a\\qb', ',')")).toBe('States.IntrinsicFailure');
    expect(failure("States.Format('ends in \\', 1)")).toBe('States.IntrinsicFailure');
  });

  it('reads a States.Format template taken from the input as text: every {} a placeholder, backslashes kept', () => {
    expect(ev('States.Format($.t, $.user)', { t: 'C:\\Users\\{}\\docs', user: 'bob' })).toBe(
      'C:\\Users\\bob\\docs',
    );
    expect(ev('States.Format($.t, 1)', { t: '\\{}' })).toBe('\\1');
    expect(failure('States.Format($.t, 1, 2)', { t: '{}' })).toBe('States.IntrinsicFailure');
  });

  it('States.StringToJson and States.JsonToString', () => {
    expect(ev('States.StringToJson($.s)', { s: '{"a":[1,2]}' })).toEqual({ a: [1, 2] });
    expect(ev('States.JsonToString($.o)', { o: { a: 1 } })).toBe('{"a":1}');
    expect(failure('States.StringToJson($.s)', { s: '{bad' })).toBe('States.IntrinsicFailure');
    // An empty or blank string is null, as in Step Functions.
    expect(ev('States.StringToJson($.s)', { s: '' })).toBeNull();
    expect(ev('States.StringToJson($.s)', { s: ' ' })).toBeNull();
  });

  it('States.Array, ArrayPartition, ArrayContains, ArrayRange, ArrayGetItem, ArrayLength, ArrayUnique', () => {
    expect(ev("States.Array('a', 1, $.x, States.Array())", { x: { y: 1 } })).toEqual(['a', 1, { y: 1 }, []]);
    expect(ev('States.ArrayPartition($.a, 2)', { a: [1, 2, 3, 4, 5] })).toEqual([[1, 2], [3, 4], [5]]);
    expect(failure('States.ArrayPartition($.a, 0)', { a: [1] })).toBe('States.IntrinsicFailure');
    expect(ev('States.ArrayContains($.a, $.v)', { a: [1, { b: 2 }], v: { b: 2 } })).toBe(true);
    expect(ev('States.ArrayContains($.a, 3)', { a: [1] })).toBe(false);
    expect(ev('States.ArrayRange(1, 9, 2)')).toEqual([1, 3, 5, 7, 9]);
    expect(ev('States.ArrayRange(5, 1, -2)')).toEqual([5, 3, 1]);
    expect(failure('States.ArrayRange(1, 2, 0)')).toBe('States.IntrinsicFailure');
    expect(failure('States.ArrayRange(1, 2000, 1)')).toBe('States.IntrinsicFailure');
    expect(ev('States.ArrayGetItem($.a, 1)', { a: ['x', 'y'] })).toBe('y');
    expect(failure('States.ArrayGetItem($.a, 5)', { a: [] })).toBe('States.IntrinsicFailure');
    expect(ev('States.ArrayLength($.a)', { a: [1, 2, 3] })).toBe(3);
    expect(failure('States.ArrayLength($.a)', { a: 'no' })).toBe('States.IntrinsicFailure');
    expect(ev('States.ArrayUnique($.a)', { a: [1, 1, { a: 1 }, { a: 1 }, '1'] })).toEqual([1, { a: 1 }, '1']);
  });

  it('States.Base64Encode / Base64Decode and States.Hash with every algorithm', () => {
    expect(ev("States.Base64Encode('Data to encode')")).toBe('RGF0YSB0byBlbmNvZGU=');
    expect(ev("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')")).toBe('Data to encode');
    expect(failure("States.Base64Decode('***')")).toBe('States.IntrinsicFailure');
    // As Java's decoder: padding optional but, where given, complete; a last group of one character is refused.
    expect(ev("States.Base64Decode('YQ')")).toBe('a');
    expect(ev("States.Base64Decode('YWI')")).toBe('ab');
    for (const bad of ['a', 'YQ=', 'YWI==', 'YWJj=', 'Y=Q='])
      expect(failure(`States.Base64Decode('${bad}')`), bad).toBe('States.IntrinsicFailure');
    for (const [name, alg] of [
      ['MD5', 'md5'],
      ['SHA-1', 'sha1'],
      ['SHA-256', 'sha256'],
      ['SHA-384', 'sha384'],
      ['SHA-512', 'sha512'],
    ]) {
      expect(ev(`States.Hash('input data', '${name}')`)).toBe(
        createHash(alg!).update('input data').digest('hex'),
      );
    }
    expect(failure("States.Hash('x', 'SHA-3')")).toBe('States.IntrinsicFailure');
  });

  it('States.JsonMerge is shallow only', () => {
    expect(
      ev('States.JsonMerge($.a, $.b, false)', { a: { x: 1, n: { p: 1 } }, b: { y: 2, n: { q: 2 } } }),
    ).toEqual({ x: 1, y: 2, n: { q: 2 } });
    expect(failure('States.JsonMerge($.a, $.b, true)', { a: {}, b: {} })).toBe('States.IntrinsicFailure');
  });

  it('States.MathRandom in range (seeded is repeatable), States.MathAdd, States.StringSplit, States.UUID', () => {
    for (let i = 0; i < 20; i += 1) {
      const v = ev('States.MathRandom(1, 10)') as number;
      expect(v).toBeGreaterThanOrEqual(1);
      expect(v).toBeLessThan(10);
    }
    expect(ev('States.MathRandom(1, 1000, 7)')).toBe(ev('States.MathRandom(1, 1000, 7)'));
    expect(ev('States.MathAdd(111, -1)')).toBe(110);
    // Decimals are rounded, halves up, as Step Functions does (its executions, not its documentation, which
    // asks for integers): 1.49 + 1.5 → 1 + 2.
    expect(ev('States.MathAdd($.a, $.b)', { a: 1.49, b: 1.5 })).toBe(3);
    expect(ev('States.MathAdd($.a, $.b)', { a: 1.5, b: 1.51 })).toBe(4);
    expect(ev('States.MathAdd($.a, $.b)', { a: -1.49, b: -1.5 })).toBe(-2);
    expect(ev('States.MathAdd($.a, $.b)', { a: -1.5, b: -1.51 })).toBe(-3);
    expect(failure("States.MathAdd('1', 1)")).toBe('States.IntrinsicFailure');
    for (let i = 0; i < 20; i += 1) {
      const v = ev('States.MathRandom($.a, $.b)', { a: 12.5, b: 44.51 }) as number;
      expect(Number.isInteger(v) && v >= 13 && v < 45).toBe(true);
    }
    expect(ev("States.StringSplit('1,2,3', ',')")).toEqual(['1', '2', '3']);
    expect(ev("States.StringSplit('This.is+a,test=string', '.+,=')")).toEqual([
      'This',
      'is',
      'a',
      'test',
      'string',
    ]);
    expect(ev('States.UUID()')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('rejects unknown functions and bad syntax with States.IntrinsicFailure; a missing argument path is States.Runtime', () => {
    expect(failure('States.Nope(1)')).toBe('States.IntrinsicFailure');
    expect(failure("States.Format('x'")).toBe('States.IntrinsicFailure');
    expect(failure('States.ArrayLength($.missing)')).toBe('States.Runtime');
  });

  it('run inside a state, an intrinsic failure fails the execution and can be caught', async () => {
    const def = {
      StartAt: 'P',
      States: {
        P: { Type: 'Pass', Parameters: { 'x.$': 'States.ArrayGetItem($.a, 9)' }, End: true },
      },
    };
    expect(await run(def, { a: [] })).toMatchObject({ status: 'FAILED', error: 'States.IntrinsicFailure' });
    const ok = await run(
      single({ Type: 'Pass', Parameters: { 'id.$': 'States.UUID()', 'n.$': 'States.MathAdd($.n, 1)' } }),
      { n: 1 },
    );
    expect(ok.output).toMatchObject({ n: 2 });
  });
});
