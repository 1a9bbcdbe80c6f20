import { compileAnythingBut } from './anything-but.ts';
import { cidrContains, compileCidr } from './cidr.ts';
import { InvalidEventPatternError } from './errors.ts';
import { compileNumeric } from './numeric.ts';
import {
  compileAffix,
  compileEqualsIgnoreCase,
  compileWildcardTest,
  describe,
  isObject,
  onStrings,
} from './string-match.ts';
import type { LeafTest, Scalar, ValueMatcher } from './types.ts';

/** Every operator name the pattern language knows, for validation and for telling `$or` apart from a field. */
export const OPERATORS = [
  'prefix',
  'suffix',
  'equals-ignore-case',
  'wildcard',
  'anything-but',
  'numeric',
  'exists',
  'cidr',
] as const;

type Operator = (typeof OPERATORS)[number];

/** Compiles a pattern leaf: a non-empty array whose members (exact values or operator objects) OR together. */
export function compileLeaf(leaf: readonly unknown[], path: string): LeafTest {
  if (leaf.length === 0) {
    throw new InvalidEventPatternError(
      path,
      'empty arrays are not allowed; list at least one value to match',
    );
  }
  const matchers: ValueMatcher[] = [];
  const exact: Scalar[] = [];
  const prefixes: string[] = [];
  let existsTrue = false;
  let existsFalse = false;
  leaf.forEach((member, i) => {
    const memberPath = `${path}[${i}]`;
    if (
      member === null ||
      typeof member === 'string' ||
      typeof member === 'boolean' ||
      isFiniteNumber(member)
    ) {
      // Numbers compare as parsed JSON numbers: 5 and 5.0 are the same value once parsed.
      exact.push(member);
    } else if (isObject(member)) {
      const compiled = compileOperator(member, memberPath);
      if (typeof member['prefix'] === 'string' && member['prefix'] !== '') prefixes.push(member['prefix']);
      if (compiled.kind === 'exists') {
        if (compiled.value) existsTrue = true;
        else existsFalse = true;
      } else {
        matchers.push(compiled.matcher);
      }
    } else {
      throw new InvalidEventPatternError(
        memberPath,
        `a match value must be a string, number, true, false, null or an operator object, got ${describe(member)}`,
      );
    }
  });
  const exactOnly = exact.length === leaf.length;
  // Exact members become one set lookup, and only when operators share the leaf (else exactValues serves).
  if (!exactOnly && exact.length > 0) {
    const set = new Set<Scalar>(exact);
    matchers.unshift((v) => set.has(v));
  }
  return {
    matchers,
    existsTrue,
    existsFalse,
    exactValues: exactOnly ? exact : undefined,
    prefixValues: prefixes.length === leaf.length ? prefixes : undefined,
  };
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

type CompiledOperator =
  | { readonly kind: 'exists'; readonly value: boolean }
  | { readonly kind: 'matcher'; readonly matcher: ValueMatcher };

function compileOperator(member: Record<string, unknown>, path: string): CompiledOperator {
  const keys = Object.keys(member);
  if (keys.length !== 1) {
    throw new InvalidEventPatternError(
      path,
      `an operator object must have exactly one key, got ${keys.length === 0 ? 'none' : JSON.stringify(keys)}; ` +
        'list several operators as separate array members to OR them',
    );
  }
  const name = keys[0]!;
  if (!(OPERATORS as readonly string[]).includes(name)) {
    throw new InvalidEventPatternError(
      path,
      `unrecognized match type "${name}"; expected one of ${OPERATORS.join(', ')}`,
    );
  }
  const spec = member[name];
  const operatorPath = `${path}.${name}`;
  if (name === 'exists') {
    if (typeof spec !== 'boolean') {
      throw new InvalidEventPatternError(operatorPath, `exists needs true or false, got ${describe(spec)}`);
    }
    return { kind: 'exists', value: spec };
  }
  return {
    kind: 'matcher',
    matcher: compileValueOperator(name as Exclude<Operator, 'exists'>, spec, operatorPath),
  };
}

function compileValueOperator(name: Exclude<Operator, 'exists'>, spec: unknown, path: string): ValueMatcher {
  switch (name) {
    case 'prefix':
    case 'suffix':
      return onStrings(compileAffix(name, spec, path));
    case 'equals-ignore-case':
      return onStrings(compileEqualsIgnoreCase(spec, path));
    case 'wildcard':
      return onStrings(compileWildcardTest(spec, path));
    case 'anything-but':
      return compileAnythingBut(spec, path);
    case 'numeric':
      return compileNumeric(spec, path);
    case 'cidr': {
      if (typeof spec !== 'string') {
        throw new InvalidEventPatternError(
          path,
          `cidr needs a string like "10.0.0.0/24", got ${describe(spec)}`,
        );
      }
      const range = compileCidr(spec, path);
      return (v) => typeof v === 'string' && cidrContains(range, v);
    }
  }
}
