import { createHash } from 'node:crypto';
import jsonata from 'jsonata';
import { queryError, StatesError } from './errors.ts';
import { isJsonObject, type Json, type JsonObject } from './types.ts';
import { uuidFrom } from './random.ts';
import { seededRandom } from './random.ts';

/** What a JSONata expression can see: `$states` plus the variables in scope. */
export interface JsonataScope {
  readonly states: JsonObject;
  readonly variables: Readonly<Record<string, Json>>;
  readonly random: () => number;
}

const compiled = new Map<string, jsonata.Expression>();
const EXPRESSION = /^\{%([\s\S]*)%\}$/;

export function isJsonataExpression(value: unknown): value is string {
  return typeof value === 'string' && EXPRESSION.test(value);
}

function compile(body: string, field: string): jsonata.Expression {
  let expr = compiled.get(body);
  if (expr === undefined) {
    try {
      expr = jsonata(body);
    } catch (err) {
      throw queryError(`${field}: invalid JSONata expression: ${(err as Error).message}`);
    }
    if (compiled.size < 10_000) compiled.set(body, expr);
  }
  return expr;
}

/** Evaluates one `{% ... %}` string; an expression that yields nothing is a QueryEvaluationError. */
export async function evaluateExpression(value: string, scope: JsonataScope, field: string): Promise<Json> {
  const body = EXPRESSION.exec(value)![1]!;
  const expr = compile(body, field);
  let result: unknown;
  try {
    result = await expr.evaluate({}, bindings(scope));
  } catch (err) {
    if (err instanceof StatesError) throw err;
    const e = err as { message?: string };
    throw queryError(`${field}: ${e.message ?? String(err)}`);
  }
  if (result === undefined) {
    throw queryError(`${field}: the JSONata expression '${body.trim()}' returned no value`);
  }
  try {
    return normalise(result);
  } catch (err) {
    throw queryError(`${field}: the JSONata expression '${body.trim()}' ${(err as StatesError).cause_}`);
  }
}

/** Evaluates a JSONata template: every `{% %}` string inside objects and arrays is replaced by its value. */
export async function evaluateTemplate(template: Json, scope: JsonataScope, field: string): Promise<Json> {
  if (typeof template === 'string') {
    return isJsonataExpression(template) ? evaluateExpression(template, scope, field) : template;
  }
  if (Array.isArray(template)) {
    const out: Json[] = [];
    for (const item of template) out.push(await evaluateTemplate(item, scope, field));
    return out;
  }
  if (!isJsonObject(template)) return template;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(template)) {
    out[key] = await evaluateTemplate(value, scope, `${field}.${key}`);
  }
  return out;
}

function normalise(value: unknown): Json {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value))
      throw queryError('returned a non-finite number');
    if (typeof value === 'function') throw queryError('returned an unsupported result type (a function)');
    return value as Json;
  }
  // A JSONata function (a lambda object, which refers to itself) is no JSON value, alone or inside one.
  try {
    return JSON.parse(JSON.stringify(value, noFunctions)) as Json;
  } catch (err) {
    if (err instanceof StatesError) throw err;
    throw queryError(`returned an unsupported result type: ${(err as Error).message}`);
  }
}

function noFunctions(_key: string, value: unknown): unknown {
  if (typeof value === 'function' || (isJsonObject(value) && value['_jsonata_lambda'] === true))
    throw queryError('returned an unsupported result type (a function)');
  return value;
}

function bindings(scope: JsonataScope): Record<string, unknown> {
  return {
    ...scope.variables,
    states: scope.states,
    partition: (array: unknown, size: unknown) => {
      if (!Array.isArray(array)) throw queryError('$partition: the first argument must be an array');
      if (typeof size !== 'number' || !Number.isInteger(size) || size <= 0) {
        throw queryError('$partition: the chunk size must be a positive integer');
      }
      const out: unknown[][] = [];
      for (let i = 0; i < array.length; i += size) out.push(array.slice(i, i + size));
      return out;
    },
    range: (start: unknown, end: unknown, step: unknown) => {
      if (![start, end, step].every((v) => typeof v === 'number' && Number.isInteger(v)) || step === 0) {
        throw queryError('$range: start, end and a non-zero step must be integers');
      }
      const [s, e, st] = [start as number, end as number, step as number];
      const out: number[] = [];
      for (let v = s; st > 0 ? v <= e : v >= e; v += st) {
        out.push(v);
        if (out.length > 1000) throw queryError('$range: the result exceeds 1,000 items');
      }
      // A JSONata sequence of one is that one value: Step Functions answers $range(1, 9, 9) with 1.
      return out.length === 1 ? out[0] : out;
    },
    hash: (data: unknown, algorithm: unknown) => {
      const algorithms: Record<string, string> = {
        MD5: 'md5',
        'SHA-1': 'sha1',
        'SHA-256': 'sha256',
        'SHA-384': 'sha384',
        'SHA-512': 'sha512',
      };
      const alg = typeof algorithm === 'string' ? algorithms[algorithm] : undefined;
      if (!alg) throw queryError(`$hash: algorithm must be one of ${Object.keys(algorithms).join(', ')}`);
      const text = typeof data === 'string' ? data : JSON.stringify(data);
      return createHash(alg).update(text).digest('hex');
    },
    random: (seed?: unknown) =>
      seed === undefined ? scope.random() : seededRandom(`seed:${JSON.stringify(seed)}`)(),
    uuid: () => uuidFrom(scope.random),
    parse: (text: unknown) => {
      if (typeof text !== 'string') throw queryError('$parse: the argument must be a JSON string');
      try {
        return JSON.parse(text) as unknown;
      } catch (err) {
        throw queryError(`$parse: ${(err as Error).message}`);
      }
    },
  };
}
