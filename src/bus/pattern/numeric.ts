import { InvalidEventPatternError } from './errors.ts';
import type { ValueMatcher } from './types.ts';

const LOWER = new Set(['>', '>=']);
const UPPER = new Set(['<', '<=']);
/**
 * EventBridge's numeric matching covers -5.0e9 to 5.0e9 inclusive (event-ruler's ComparableNumber): a bound
 * outside it is refused, and an event value outside it matches no numeric comparison.
 */
const NUMERIC_LIMIT = 5e9;
/** How a refusal names the range. */
export const NUMERIC_RANGE = "between -5.0E9 and 5.0E9 inclusive (EventBridge's range)";

export const inRange = (v: unknown): v is number =>
  typeof v === 'number' && v >= -NUMERIC_LIMIT && v <= NUMERIC_LIMIT;

/**
 * Compiles `{"numeric": [...]}`: `["=", n]`, one bound (`["<", n]`), or a lower bound followed by an upper
 * bound (`[">", a, "<=", b]` with a < b). Matches JSON numbers only, never numeric-looking strings.
 */
export function compileNumeric(spec: unknown, path: string): ValueMatcher {
  if (!Array.isArray(spec) || (spec.length !== 2 && spec.length !== 4)) {
    throw new InvalidEventPatternError(
      path,
      'numeric needs an array of one comparison (["<", 10]) or a lower then an upper bound ([">", 0, "<=", 5])',
    );
  }
  const first = comparison(spec, 0, path);
  if (first.op === '=') {
    if (spec.length !== 2) {
      throw new InvalidEventPatternError(path, '"=" cannot be combined with another comparison in numeric');
    }
    const target = first.value;
    return (v) => inRange(v) && v === target;
  }
  if (spec.length === 2) return bound(first.op, first.value);
  const second = comparison(spec, 2, path);
  if (!LOWER.has(first.op) || !UPPER.has(second.op)) {
    throw new InvalidEventPatternError(
      path,
      `a numeric range must be a lower bound (">" or ">=") followed by an upper bound ("<" or "<="), got "${first.op}" then "${second.op}"`,
    );
  }
  if (!(first.value < second.value)) {
    throw new InvalidEventPatternError(
      path,
      `the lower bound ${first.value} of a numeric range must be less than its upper bound ${second.value}`,
    );
  }
  const low = bound(first.op, first.value);
  const high = bound(second.op, second.value);
  return (v) => low(v) && high(v);
}

function comparison(spec: readonly unknown[], index: number, path: string): { op: string; value: number } {
  const op = spec[index];
  const value = spec[index + 1];
  if (typeof op !== 'string' || !(op === '=' || LOWER.has(op) || UPPER.has(op))) {
    throw new InvalidEventPatternError(
      `${path}[${index}]`,
      `unknown numeric operator ${JSON.stringify(op)}; use one of "=", "<", "<=", ">", ">="`,
    );
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidEventPatternError(
      `${path}[${index + 1}]`,
      `numeric operator "${op}" must be followed by a JSON number, got ${JSON.stringify(value) ?? 'nothing'}`,
    );
  }
  if (!inRange(value)) {
    throw new InvalidEventPatternError(
      `${path}[${index + 1}]`,
      `numeric values must be ${NUMERIC_RANGE}, got ${value}`,
    );
  }
  return { op, value };
}

function bound(op: string, limit: number): ValueMatcher {
  switch (op) {
    case '<':
      return (v) => inRange(v) && v < limit;
    case '<=':
      return (v) => inRange(v) && v <= limit;
    case '>':
      return (v) => inRange(v) && v > limit;
    default:
      return (v) => inRange(v) && v >= limit;
  }
}
