import { InvalidEventPatternError } from './errors.ts';
import { compileLeaf, OPERATORS } from './leaf.ts';
import { objectPredicate } from './predicate.ts';
import { describe, isObject } from './string-match.ts';
import type { CompiledPattern, FieldNode, ObjectNode } from './types.ts';

/** EventBridge rejects patterns whose `$or`s expand to more than this many plain patterns. */
export const MAX_COMBINATIONS = 1000;
/** Objects nested in a pattern (`$or` alternatives count): far beyond any event's shape, short of the stack. */
export const MAX_DEPTH = 100;

/**
 * Validates an EventBridge event pattern (a parsed JSON value, or its JSON text) and compiles it for
 * matching. Throws InvalidEventPatternError naming what is wrong and where.
 */
export function compilePattern(json: unknown): CompiledPattern {
  const pattern = typeof json === 'string' ? parseText(json) : json;
  if (!isObject(pattern)) {
    throw new InvalidEventPatternError(
      '',
      `an event pattern must be a JSON object, got ${describe(pattern)}`,
    );
  }
  const root = compileObject(pattern, '');
  const combinations = countCombinations(root);
  if (combinations > MAX_COMBINATIONS) {
    throw new InvalidEventPatternError(
      '',
      `the $or clauses expand to more than ${MAX_COMBINATIONS} combinations; split the rule or flatten its $or`,
    );
  }
  return { root, test: objectPredicate(root), source: pattern, combinations };
}

function parseText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InvalidEventPatternError('', `the pattern is not valid JSON (${(err as Error).message})`);
  }
}

function compileObject(pattern: Record<string, unknown>, path: string, depth = 1): ObjectNode {
  if (depth > MAX_DEPTH)
    throw new InvalidEventPatternError(path, `the pattern nests more than ${MAX_DEPTH} objects deep`);
  const keys = Object.keys(pattern);
  if (keys.length === 0) {
    throw new InvalidEventPatternError(
      path,
      'empty objects are not allowed; name at least one field to match',
    );
  }
  const fields: FieldNode[] = [];
  const ors: ObjectNode[][] = [];
  for (const key of keys) {
    const value = pattern[key];
    const fieldPath = joinPath(path, key);
    if (key === '$or' && isOrClause(value)) {
      ors.push(compileOr(value, fieldPath, depth));
    } else if (Array.isArray(value)) {
      fields.push({ kind: 'leaf', key, test: compileLeaf(value, fieldPath) });
    } else if (isObject(value)) {
      fields.push({ kind: 'object', key, node: compileObject(value, fieldPath, depth + 1) });
    } else {
      throw new InvalidEventPatternError(
        fieldPath,
        `a field must hold an array of match values or a nested object, got ${describe(value)}; ` +
          `write ${JSON.stringify(key)}: [${JSON.stringify(value) ?? ''}] to match that value`,
      );
    }
  }
  return { fields, ors };
}

/**
 * `$or` is the OR primitive only when it holds objects that are sub-patterns (not operator objects);
 * otherwise event-ruler treats it as an ordinary field name, and so do we for compatibility.
 */
function isOrClause(value: unknown): value is Record<string, unknown>[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every(
      (v) => isObject(v) && !Object.keys(v).some((k) => (OPERATORS as readonly string[]).includes(k)),
    )
  );
}

function compileOr(alternatives: Record<string, unknown>[], path: string, depth: number): ObjectNode[] {
  if (alternatives.length < 2) {
    throw new InvalidEventPatternError(path, '$or needs at least two sub-patterns; with one, drop the $or');
  }
  return alternatives.map((alt, i) => compileObject(alt, `${path}[${i}]`, depth + 1));
}

function countCombinations(node: ObjectNode): number {
  let total = 1;
  for (const field of node.fields) {
    if (field.kind === 'object') total = cap(total * countCombinations(field.node));
  }
  for (const group of node.ors) {
    let sum = 0;
    for (const alt of group) sum = cap(sum + countCombinations(alt));
    total = cap(total * sum);
  }
  return total;
}

// Keeps counts finite for absurd patterns; anything above the limit is rejected anyway.
function cap(n: number): number {
  return Math.min(n, MAX_COMBINATIONS + 1);
}

/** Dotted path for plain keys, bracketed JSON string for keys that would be ambiguous. */
export function joinPath(path: string, key: string): string {
  if (/^[A-Za-z0-9_$-]+$/.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}
