import { JSONPath } from 'jsonpath-plus';
import { StatesError, runtimeError } from './errors.ts';
import { isJsonObject, type Json } from './types.ts';

/** What a JSONPath expression can see: the state's data (`$`), the context object (`$$`), variables (`$name`). */
export interface PathScope {
  readonly data: Json;
  readonly context: Json;
  variable(name: string): Json | undefined;
  /** Deterministic randomness for States.UUID / States.MathRandom (seeded per decision for replay). */
  random(): number;
}

type Segment = string | number;

const VARIABLE = /^\$([A-Za-z_][A-Za-z0-9_]*)/;
const simpleCache = new Map<string, Segment[] | null>();

/**
 * Parses a definite path (`$.a.b[0]['c d']`) into segments; returns null for paths with wildcards,
 * filters, slices or recursive descent, which go to jsonpath-plus instead.
 */
export function parseDefinite(rest: string): Segment[] | null {
  const cached = simpleCache.get(rest);
  if (cached !== undefined) return cached;
  const segments: Segment[] = [];
  let i = 0;
  let ok = true;
  while (i < rest.length && ok) {
    if (rest[i] === '.') {
      const m = /^\.([^.[\]*@?()'",:\s]+)/.exec(rest.slice(i));
      if (!m || rest[i + 1] === '.') ok = false;
      else {
        segments.push(m[1]!);
        i += m[0].length;
      }
    } else if (rest[i] === '[') {
      const m = /^\[(?:(\d+)|'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\]/.exec(rest.slice(i));
      if (!m) ok = false;
      else {
        segments.push(m[1] !== undefined ? Number(m[1]) : (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1'));
        i += m[0].length;
      }
    } else ok = false;
  }
  const result = ok ? segments : null;
  if (simpleCache.size < 10_000) simpleCache.set(rest, result);
  return result;
}

/** Splits `$$.x`, `$var.x` or `$.x` into the root value it reads and the remainder of the path. */
function rootOf(path: string, scope: PathScope): { root: Json | undefined; rest: string } {
  if (path.startsWith('$$')) return { root: scope.context, rest: path.slice(2) };
  const v = VARIABLE.exec(path);
  if (v) return { root: scope.variable(v[1]!), rest: path.slice(v[0].length) };
  if (path.startsWith('$')) return { root: scope.data, rest: path.slice(1) };
  throw runtimeError(`'${path}' is not a JSONPath: it must start with '$'`);
}

/** True when the path names at most one node (a Reference Path). */
export function isDefinitePath(path: string): boolean {
  const rest = path.startsWith('$$') ? path.slice(2) : path.replace(VARIABLE, '').replace(/^\$/, '');
  return parseDefinite(rest) !== null;
}

/** Evaluates a path; `undefined` means it matched nothing. Indefinite paths return an array of matches. */
export function evaluatePath(path: string, scope: PathScope): Json | undefined {
  const { root, rest } = rootOf(path, scope);
  if (root === undefined) return undefined;
  const segments = parseDefinite(rest);
  if (segments !== null) {
    let node: Json | undefined = root;
    for (const seg of segments) {
      if (typeof seg === 'number' && Array.isArray(node)) node = node[seg];
      else if (isJsonObject(node) && Object.prototype.hasOwnProperty.call(node, seg))
        node = node[String(seg)];
      else return undefined;
    }
    return node;
  }
  try {
    return JSONPath({ path: '$' + rest, json: root as object, wrap: true }) as Json[];
  } catch (err) {
    throw runtimeError(`invalid JSONPath '${path}': ${(err as Error).message}`);
  }
}

/** Evaluates a path that must match; `error` names what a miss raises. */
export function selectPath(path: string, scope: PathScope, error: string, field: string): Json {
  const value = evaluatePath(path, scope);
  if (value === undefined) {
    throw new StatesError(
      error,
      `The JSONPath '${path}' specified for the field '${field}' could not be found in the input`,
    );
  }
  return value;
}
