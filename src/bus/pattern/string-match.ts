import { InvalidEventPatternError } from './errors.ts';
import type { ValueMatcher } from './types.ts';
import { compileWildcard } from './wildcard.ts';

/** A test on string values only; the operators built on it never match numbers, booleans or null. */
export type StringTest = (value: string) => boolean;

const ASCII = /^\p{ASCII}*$/u;

/**
 * Case-insensitive comparisons fold both sides the same way, once for the pattern side.
 *
 * The fold works one code point at a time, so `fold(a + b) === fold(a) + fold(b)`: a prefix or
 * suffix of a string folds to a prefix or suffix of the folded string. `String#toLowerCase` alone
 * is not like that (a Greek capital sigma lowers to a final sigma only at the end of a word), and
 * going through upper case first makes the two lower sigmas compare equal.
 */
export function fold(text: string): string {
  if (ASCII.test(text)) return text.toLowerCase();
  let out = '';
  for (const ch of text) {
    const upper = ch.toUpperCase();
    // Through upper case only where it maps one to one (ẞ and ß meet at ß; ß does not become "ss").
    out += (upper.length === ch.length ? upper : ch).toLowerCase();
  }
  return out;
}

/** `prefix` / `suffix` take a string or `{"equals-ignore-case": string}`. */
export function compileAffix(kind: 'prefix' | 'suffix', spec: unknown, path: string): StringTest {
  if (typeof spec === 'string') {
    return kind === 'prefix' ? (v) => v.startsWith(spec) : (v) => v.endsWith(spec);
  }
  if (isObject(spec)) {
    const keys = Object.keys(spec);
    const inner = spec['equals-ignore-case'];
    if (keys.length === 1 && typeof inner === 'string') {
      const folded = fold(inner);
      return kind === 'prefix' ? (v) => fold(v).startsWith(folded) : (v) => fold(v).endsWith(folded);
    }
    throw new InvalidEventPatternError(
      path,
      `${kind} accepts only {"equals-ignore-case": "<string>"} as an object, got ${JSON.stringify(spec)}`,
    );
  }
  throw new InvalidEventPatternError(path, `${kind} needs a string value, got ${describe(spec)}`);
}

export function compileEqualsIgnoreCase(spec: unknown, path: string): StringTest {
  if (typeof spec !== 'string') {
    throw new InvalidEventPatternError(
      path,
      `equals-ignore-case needs a string value, got ${describe(spec)}`,
    );
  }
  const folded = fold(spec);
  return (v) => fold(v) === folded;
}

export function compileWildcardTest(spec: unknown, path: string): StringTest {
  if (typeof spec !== 'string') {
    throw new InvalidEventPatternError(path, `wildcard needs a string value, got ${describe(spec)}`);
  }
  return compileWildcard(spec, path);
}

/** Lifts a string test to a value matcher that is false for every non-string value. */
export function onStrings(test: StringTest): ValueMatcher {
  return (v) => typeof v === 'string' && test(v);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Names a JSON value's type for error messages. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}
