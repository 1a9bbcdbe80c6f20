import { isPlainObject, matches } from './match.ts';
import type { CompiledPattern, ObjectNode, Scalar } from './types.ts';

/** A leaf every match of the rule must satisfy with one of its exact values: a necessary condition. */
interface Requirement {
  readonly segments: readonly string[];
  readonly pathKey: string;
  readonly valueKeys: readonly string[];
}

interface Entry {
  readonly name: string;
  readonly seq: number;
  readonly compiled: CompiledPattern;
  readonly requirements: readonly Requirement[];
  /** Last match() call that already queued this rule as a candidate (dedupe without a Set). */
  seenAt: number;
}

interface PathIndex {
  readonly segments: readonly string[];
  readonly buckets: Map<string, Entry[]>;
}

/**
 * Finds the rules whose pattern matches an event without testing every rule. Each rule is filed under one
 * field it requires to hold one of a few exact values (the most selective such field across the rule set);
 * an event only tests the rules filed under the values it actually holds, plus the rules that have no such
 * field. The full pattern check then decides, so results equal a scan of every rule.
 */
export class RuleIndex {
  private readonly entries = new Map<string, Entry>();
  private paths: PathIndex[] = [];
  private unindexed: Entry[] = [];
  private dirty = false;
  private nextSeq = 0;
  private matchCount = 0;

  /** Adds a rule, replacing any rule of the same name. */
  add(name: string, compiled: CompiledPattern): void {
    const requirements = collectRequirements(compiled.root, []);
    this.entries.set(name, { name, seq: this.nextSeq++, compiled, requirements, seenAt: -1 });
    this.dirty = true;
  }

  /** Removes a rule; returns false when no rule had that name. */
  remove(name: string): boolean {
    const removed = this.entries.delete(name);
    if (removed) this.dirty = true;
    return removed;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Names of the rules matching the event, in the order the rules were added. */
  match(event: unknown): string[] {
    if (!isPlainObject(event)) return [];
    if (this.dirty) this.rebuild();
    const stamp = ++this.matchCount;
    const candidates: Entry[] = [];
    for (const entry of this.unindexed) candidates.push(entry);
    for (const pathIndex of this.paths) {
      collectAt(event, pathIndex.segments, 0, (value) => {
        const bucket = pathIndex.buckets.get(valueKey(value));
        if (bucket === undefined) return;
        for (const entry of bucket) {
          if (entry.seenAt === stamp) continue;
          entry.seenAt = stamp;
          candidates.push(entry);
        }
      });
    }
    const matched = candidates.filter((entry) => matches(entry.compiled, event));
    if (matched.length > 1) matched.sort((a, b) => a.seq - b.seq);
    return matched.map((entry) => entry.name);
  }

  /** How many rules a match has to test for this event; exposed so tests and benchmarks can see the pruning. */
  candidateCount(event: unknown): number {
    if (!isPlainObject(event)) return 0;
    if (this.dirty) this.rebuild();
    const seen = new Set<Entry>(this.unindexed);
    for (const pathIndex of this.paths) {
      collectAt(event, pathIndex.segments, 0, (value) => {
        for (const entry of pathIndex.buckets.get(valueKey(value)) ?? []) seen.add(entry);
      });
    }
    return seen.size;
  }

  // Rebuilt lazily because the best field for one rule depends on all the others (rule sets change rarely).
  private rebuild(): void {
    const popularity = new Map<string, number>();
    for (const entry of this.entries.values()) {
      for (const req of entry.requirements) {
        for (const key of req.valueKeys) {
          const k = req.pathKey + '\u0000' + key;
          popularity.set(k, (popularity.get(k) ?? 0) + 1);
        }
      }
    }
    const paths = new Map<string, PathIndex>();
    const unindexed: Entry[] = [];
    for (const entry of this.entries.values()) {
      const best = mostSelective(entry.requirements, popularity);
      if (best === undefined) {
        unindexed.push(entry);
        continue;
      }
      let pathIndex = paths.get(best.pathKey);
      if (pathIndex === undefined) {
        pathIndex = { segments: best.segments, buckets: new Map() };
        paths.set(best.pathKey, pathIndex);
      }
      for (const key of new Set(best.valueKeys)) {
        const bucket = pathIndex.buckets.get(key);
        if (bucket === undefined) pathIndex.buckets.set(key, [entry]);
        else bucket.push(entry);
      }
    }
    this.paths = [...paths.values()];
    this.unindexed = unindexed;
    this.dirty = false;
  }
}

/** Picks the requirement whose values are shared by the fewest rules (fewer candidates per event). */
function mostSelective(
  requirements: readonly Requirement[],
  popularity: ReadonlyMap<string, number>,
): Requirement | undefined {
  let best: Requirement | undefined;
  let bestCost = Infinity;
  for (const req of requirements) {
    let cost = 0;
    for (const key of req.valueKeys) cost += popularity.get(req.pathKey + '\u0000' + key) ?? 0;
    if (cost < bestCost) {
      best = req;
      bestCost = cost;
    }
  }
  return best;
}

/**
 * Leaves reached through plain nested objects (never through `$or`, which is optional by nature) whose
 * members are all exact values: a matching event must hold one of those values at that path.
 */
function collectRequirements(node: ObjectNode, prefix: readonly string[]): Requirement[] {
  const found: Requirement[] = [];
  for (const field of node.fields) {
    const segments = [...prefix, field.key];
    if (field.kind === 'object') {
      found.push(...collectRequirements(field.node, segments));
    } else if (field.test.exactValues !== undefined) {
      found.push({
        segments,
        pathKey: JSON.stringify(segments),
        valueKeys: field.test.exactValues.map(valueKey),
      });
    }
  }
  return found;
}

/** Visits every scalar the event holds at the path, descending through arrays the way matching does. */
function collectAt(
  value: unknown,
  segments: readonly string[],
  depth: number,
  visit: (v: Scalar) => void,
): void {
  if (Array.isArray(value)) {
    for (const element of value) collectAt(element, segments, depth, visit);
    return;
  }
  if (depth === segments.length) {
    if (!isPlainObject(value) && value !== undefined) visit(value as Scalar);
    return;
  }
  if (!isPlainObject(value)) return;
  const key = segments[depth]!;
  if (Object.hasOwn(value, key)) collectAt(value[key], segments, depth + 1, visit);
}

/** Type-tagged so the string "1", the number 1 and true never share a bucket. */
function valueKey(value: Scalar): string {
  switch (typeof value) {
    case 'string':
      return 's' + value;
    case 'number':
      return 'n' + String(value);
    case 'boolean':
      return value ? 'T' : 'F';
    default:
      return 'z';
  }
}
