import { isPlainObject } from './match.ts';
import type { CompiledPattern, ObjectNode, Scalar } from './types.ts';

/**
 * A necessary condition of a rule: a field (reached through plain nested objects, never through `$or`, which
 * is optional by nature) that must hold one of some exact values, or a string starting with one of some
 * prefixes. A rule can only match events that satisfy each of its requirements.
 */
export type Requirement =
  | {
      readonly kind: 'exact';
      readonly segments: readonly string[];
      readonly pathKey: string;
      readonly values: readonly Scalar[];
    }
  | {
      readonly kind: 'prefix';
      readonly segments: readonly string[];
      readonly pathKey: string;
      readonly values: readonly string[];
    };

export interface Entry {
  readonly name: string;
  readonly seq: number;
  readonly compiled: CompiledPattern;
  readonly requirements: readonly Requirement[];
  /** Last lookup that already queued this rule as a candidate (dedupe without a Set). */
  seenAt: number;
}

/** The rules filed under one event path, by exact value and by prefix. */
export interface PathIndex {
  readonly segments: readonly string[];
  /** Keyed by the raw value: Map keys compare like ===, so "1", 1 and true never share a bucket. */
  readonly exact: Map<Scalar, Entry[]>;
  readonly prefixes: Map<string, Entry[]>;
  /** Distinct prefix lengths in `prefixes`, so a value is sliced only at lengths some rule uses. */
  prefixLengths: number[];
}

export function collectRequirements(node: ObjectNode, prefix: readonly string[] = []): Requirement[] {
  const found: Requirement[] = [];
  for (const field of node.fields) {
    const segments = [...prefix, field.key];
    const pathKey = JSON.stringify(segments);
    if (field.kind === 'object') {
      found.push(...collectRequirements(field.node, segments));
    } else if (field.test.exactValues !== undefined) {
      found.push({ kind: 'exact', segments, pathKey, values: field.test.exactValues });
    } else if (field.test.prefixValues !== undefined) {
      found.push({ kind: 'prefix', segments, pathKey, values: field.test.prefixValues });
    }
  }
  return found;
}

/** Counts how many rules share each (path, kind, value), to judge which requirement is most selective. */
export function popularityOf(entries: Iterable<Entry>): Map<string, number> {
  const popularity = new Map<string, number>();
  for (const entry of entries) {
    for (const req of entry.requirements) {
      for (const value of req.values) {
        const k = popularityKey(req, value);
        popularity.set(k, (popularity.get(k) ?? 0) + 1);
      }
    }
  }
  return popularity;
}

/**
 * Picks the requirement whose values are shared by the fewest rules (fewer candidates per event). A prefix
 * is charged one extra rule because many event values reach its bucket; on a tie an exact value wins.
 */
export function mostSelective(
  entry: Entry,
  popularity: ReadonlyMap<string, number>,
): Requirement | undefined {
  let best: Requirement | undefined;
  let bestCost = Infinity;
  for (const req of entry.requirements) {
    let cost = req.kind === 'prefix' ? 1 : 0;
    for (const value of req.values) cost += popularity.get(popularityKey(req, value)) ?? 0;
    if (cost < bestCost) {
      best = req;
      bestCost = cost;
    }
  }
  return best;
}

/** Files the entry under every value of the requirement. */
export function fileUnder(index: PathIndex, req: Requirement, entry: Entry): void {
  for (const value of new Set<Scalar>(req.values)) {
    const buckets: Map<Scalar, Entry[]> =
      req.kind === 'exact' ? index.exact : (index.prefixes as Map<Scalar, Entry[]>);
    const bucket = buckets.get(value);
    if (bucket === undefined) buckets.set(value, [entry]);
    else bucket.push(entry);
    if (req.kind === 'prefix' && !index.prefixLengths.includes((value as string).length)) {
      index.prefixLengths.push((value as string).length);
    }
  }
}

/**
 * Queues the rules filed under every scalar the event holds at the path, descending through arrays the way
 * matching does; `stamp` marks a rule already queued for this event.
 */
export function gather(value: unknown, index: PathIndex, depth: number, stamp: number, out: Entry[]): void {
  if (Array.isArray(value)) {
    for (const element of value) gather(element, index, depth, stamp, out);
    return;
  }
  if (depth === index.segments.length) {
    if (value === undefined || (typeof value === 'object' && value !== null)) return;
    queue(index.exact.get(value as Scalar), stamp, out);
    if (typeof value === 'string') {
      for (const length of index.prefixLengths) {
        if (length <= value.length) queue(index.prefixes.get(value.slice(0, length)), stamp, out);
      }
    }
    return;
  }
  if (!isPlainObject(value)) return;
  const key = index.segments[depth]!;
  if (Object.hasOwn(value, key)) gather(value[key], index, depth + 1, stamp, out);
}

function queue(bucket: readonly Entry[] | undefined, stamp: number, out: Entry[]): void {
  if (bucket === undefined) return;
  for (const entry of bucket) {
    if (entry.seenAt === stamp) continue;
    entry.seenAt = stamp;
    out.push(entry);
  }
}

/** Type-tagged so the string "1", the number 1 and true are counted apart. */
function popularityKey(req: Requirement, value: Scalar): string {
  return `${req.pathKey}\u0000${req.kind}:${typeof value}:${String(value)}`;
}
