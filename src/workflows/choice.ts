import { globMatcher } from '../glob.ts';
import { runtimeError } from './errors.ts';
import { evaluatePath, type PathScope } from './path.ts';
import type { ChoiceRule, Json } from './types.ts';

/**
 * JSONPath Choice rules: every comparison operator with its `Path` form, And/Or/Not, the type tests and
 * StringMatches. A comparison against a value of the wrong type is false (the spec's rule), never an error.
 */

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value !== 'string' || !TIMESTAMP.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

type Compare = (a: Json, b: Json) => boolean;
const str =
  (f: (a: string, b: string) => boolean): Compare =>
  (a, b) =>
    typeof a === 'string' && typeof b === 'string' && f(a, b);
const num =
  (f: (a: number, b: number) => boolean): Compare =>
  (a, b) =>
    typeof a === 'number' && typeof b === 'number' && f(a, b);
const ts =
  (f: (a: number, b: number) => boolean): Compare =>
  (a, b) => {
    const [x, y] = [parseTimestamp(a), parseTimestamp(b)];
    return x !== undefined && y !== undefined && f(x, y);
  };

const COMPARISONS: Record<string, Compare> = {
  StringEquals: str((a, b) => a === b),
  StringLessThan: str((a, b) => a < b),
  StringGreaterThan: str((a, b) => a > b),
  StringLessThanEquals: str((a, b) => a <= b),
  StringGreaterThanEquals: str((a, b) => a >= b),
  StringMatches: str(matchesPattern),
  NumericEquals: num((a, b) => a === b),
  NumericLessThan: num((a, b) => a < b),
  NumericGreaterThan: num((a, b) => a > b),
  NumericLessThanEquals: num((a, b) => a <= b),
  NumericGreaterThanEquals: num((a, b) => a >= b),
  BooleanEquals: (a, b) => typeof a === 'boolean' && a === b,
  TimestampEquals: ts((a, b) => a === b),
  TimestampLessThan: ts((a, b) => a < b),
  TimestampGreaterThan: ts((a, b) => a > b),
  TimestampLessThanEquals: ts((a, b) => a <= b),
  TimestampGreaterThanEquals: ts((a, b) => a >= b),
};

const TYPE_TESTS: Record<string, (v: Json | undefined) => boolean> = {
  IsNull: (v) => v === null,
  IsPresent: (v) => v !== undefined,
  IsNumeric: (v) => typeof v === 'number',
  IsString: (v) => typeof v === 'string',
  IsBoolean: (v) => typeof v === 'boolean',
  IsTimestamp: (v) => parseTimestamp(v) !== undefined,
};

/** The operator names a Choice rule may use, for validation. */
export const CHOICE_OPERATORS = [
  ...Object.keys(COMPARISONS),
  ...Object.keys(COMPARISONS)
    .filter((k) => k !== 'StringMatches')
    .map((k) => k + 'Path'),
  ...Object.keys(TYPE_TESTS),
];

/** `*` matches any run of characters; a backslash makes the next character literal (`\*`, `\\`). */
function matchesPattern(value: string, pattern: string): boolean {
  const pieces = [''];
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) pieces[pieces.length - 1] += pattern[++i]!;
    else if (c === '*') pieces.push('');
    else pieces[pieces.length - 1] += c;
  }
  return globMatcher(pieces)(value);
}

/** Evaluates one JSONPath Choice rule against the state's input. */
export function evaluateRule(rule: ChoiceRule, scope: PathScope): boolean {
  if (rule.And) return rule.And.every((r) => evaluateRule(r, scope));
  if (rule.Or) return rule.Or.some((r) => evaluateRule(r, scope));
  if (rule.Not) return !evaluateRule(rule.Not, scope);
  if (typeof rule.Variable !== 'string') throw runtimeError('a Choice rule has no Variable, And, Or or Not');
  const value = evaluatePath(rule.Variable, scope);
  const op = operatorOf(rule);
  if (op.kind === 'type') return op.test(value) === (rule[op.name] === true);
  requirePresent(value, rule.Variable);
  if (!op.path) return op.compare(value!, rule[op.name] as Json);
  const path = String(rule[op.name]);
  const other = evaluatePath(path, scope);
  if (other === undefined) throw runtimeError(`Invalid path '${path}': no such value`);
  return op.compare(value!, other);
}

type Operator =
  | { readonly kind: 'type'; readonly name: string; readonly test: (v: Json | undefined) => boolean }
  | {
      readonly kind: 'compare';
      /** The rule's field: the operator, or the operator + `Path` (compare with another input value). */
      readonly name: string;
      readonly path: boolean;
      readonly compare: (a: Json, b: Json) => boolean;
    };

/** Each rule object's operator, found once (a Choice state is evaluated on every visit). */
const operators = new WeakMap<ChoiceRule, Operator>();

function operatorOf(rule: ChoiceRule): Operator {
  let op = operators.get(rule);
  if (op) return op;
  op = findOperator(rule);
  operators.set(rule, op);
  return op;
}

function findOperator(rule: ChoiceRule): Operator {
  for (const [name, test] of Object.entries(TYPE_TESTS)) {
    if (name in rule) return { kind: 'type', name, test };
  }
  for (const [name, compare] of Object.entries(COMPARISONS)) {
    if (name in rule) return { kind: 'compare', name, path: false, compare };
    if (name + 'Path' in rule) return { kind: 'compare', name: name + 'Path', path: true, compare };
  }
  throw runtimeError(`the Choice rule on '${String(rule.Variable)}' has no comparison operator`);
}

function requirePresent(value: Json | undefined, path: string): void {
  if (value === undefined)
    throw runtimeError(
      `Invalid path '${path}': The choice state's condition path references an invalid value.`,
    );
}
