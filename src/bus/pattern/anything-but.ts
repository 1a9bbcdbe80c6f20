import { InvalidEventPatternError } from './errors.ts';
import { inRange, NUMERIC_RANGE } from './numeric.ts';
import {
  compileAffix,
  compileEqualsIgnoreCase,
  compileWildcardTest,
  describe,
  isObject,
  type StringTest,
} from './string-match.ts';
import type { ValueMatcher } from './types.ts';

const NESTED = ['prefix', 'suffix', 'equals-ignore-case', 'wildcard'] as const;

/**
 * Compiles `{"anything-but": ...}`: a string, a number, a list of all strings or all numbers, or one of
 * `{prefix|suffix|equals-ignore-case|wildcard: s | [s, ...]}`. It matches every value that is not excluded,
 * null included; an absent field has no value, so it never matches one.
 */
export function compileAnythingBut(spec: unknown, path: string): ValueMatcher {
  if (typeof spec === 'string') return (v) => v !== spec;
  if (typeof spec === 'number') {
    checkNumericRange([spec], path);
    return (v) => !(typeof v === 'number' && v === spec);
  }
  if (Array.isArray(spec)) return excludeList(spec, path);
  if (isObject(spec)) return excludeNested(spec, path);
  throw new InvalidEventPatternError(
    path,
    `anything-but needs a string, a number, a list of strings or numbers, or an object of prefix, suffix, equals-ignore-case or wildcard; got ${describe(spec)}`,
  );
}

/** EventBridge refuses a number outside its numeric range in anything-but, as in numeric. */
function checkNumericRange(values: readonly number[], path: string): void {
  const outside = values.find((n) => !inRange(n));
  if (outside !== undefined) {
    throw new InvalidEventPatternError(path, `anything-but numbers must be ${NUMERIC_RANGE}, got ${outside}`);
  }
}

function excludeList(list: readonly unknown[], path: string): ValueMatcher {
  if (list.length === 0) {
    throw new InvalidEventPatternError(path, 'anything-but list must not be empty');
  }
  if (list.every((v) => typeof v === 'string')) {
    const excluded = new Set<unknown>(list);
    return (v) => typeof v !== 'string' || !excluded.has(v);
  }
  if (list.every((v) => typeof v === 'number')) {
    checkNumericRange(list, path);
    const excluded = new Set<unknown>(list);
    return (v) => typeof v !== 'number' || !excluded.has(v);
  }
  throw new InvalidEventPatternError(
    path,
    'anything-but list must contain only strings or only numbers (no null, booleans, objects or a mix)',
  );
}

function excludeNested(spec: Record<string, unknown>, path: string): ValueMatcher {
  const keys = Object.keys(spec);
  const key = keys[0];
  if (keys.length !== 1 || !(NESTED as readonly string[]).includes(key!)) {
    throw new InvalidEventPatternError(
      path,
      `anything-but object must have exactly one of ${NESTED.join(', ')}; got keys ${JSON.stringify(keys)}`,
    );
  }
  const name = key as (typeof NESTED)[number];
  const value = spec[name];
  const innerPath = `${path}.${name}`;
  const values = Array.isArray(value) ? value : [value];
  if (values.length === 0 || !values.every((v) => typeof v === 'string')) {
    throw new InvalidEventPatternError(
      innerPath,
      `anything-but ${name} needs a string or a non-empty list of strings, got ${describe(value)}`,
    );
  }
  const tests = values.map((v, i) =>
    nestedTest(name, v, Array.isArray(value) ? `${innerPath}[${i}]` : innerPath),
  );
  return (v) => typeof v !== 'string' || !tests.some((test) => test(v));
}

function nestedTest(name: (typeof NESTED)[number], value: string, path: string): StringTest {
  switch (name) {
    case 'prefix':
    case 'suffix':
      // EventBridge refuses an empty one here (it would exclude every string), though a plain prefix may be "".
      if (value === '')
        throw new InvalidEventPatternError(path, `Null prefix/suffix not allowed in anything-but ${name}`);
      return compileAffix(name, value, path);
    case 'equals-ignore-case':
      return compileEqualsIgnoreCase(value, path);
    case 'wildcard':
      return compileWildcardTest(value, path);
  }
}
