import { isPlainObject } from './match.ts';
import {
  collectRequirements,
  fileUnder,
  gather,
  mostSelective,
  popularityOf,
  type Entry,
  type PathIndex,
} from './requirements.ts';
import type { CompiledPattern } from './types.ts';

/** Below this many rules a plain scan is cheaper than looking values up. */
const SCAN_AT_MOST = 4;

/**
 * Finds the rules whose pattern matches an event without testing every rule. Each rule is filed under one
 * field it requires to hold one of a few exact values or prefixes (the most selective such field across the
 * rule set); an event only tests the rules filed under the values it actually holds, plus the rules that
 * have no such field. The full pattern check then decides, so results equal a scan of every rule.
 */
export class RuleIndex {
  private readonly entries = new Map<string, Entry>();
  private paths: PathIndex[] = [];
  private unindexed: Entry[] = [];
  private dirty = false;
  private nextSeq = 0;
  private lookups = 0;

  /** Adds a rule, replacing any rule of the same name (the replacement counts as added last). */
  add(name: string, compiled: CompiledPattern): void {
    this.entries.delete(name);
    const requirements = collectRequirements(compiled.root);
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
    // With no indexed path every rule is a candidate: skip the bookkeeping that would only cost time.
    const candidates = this.paths.length === 0 ? this.unindexed : this.candidates(event);
    const matched: Entry[] = [];
    let sorted = true;
    for (const entry of candidates) {
      if (!entry.compiled.test(event)) continue;
      if (matched.length > 0 && matched[matched.length - 1]!.seq > entry.seq) sorted = false;
      matched.push(entry);
    }
    if (!sorted) matched.sort((a, b) => a.seq - b.seq);
    const names: string[] = new Array<string>(matched.length);
    for (let i = 0; i < matched.length; i++) names[i] = matched[i]!.name;
    return names;
  }

  /** How many rules a match has to test for this event; exposed so tests and benchmarks can see the pruning. */
  candidateCount(event: unknown): number {
    if (!isPlainObject(event)) return 0;
    if (this.dirty) this.rebuild();
    return this.candidates(event).length;
  }

  private candidates(event: Readonly<Record<string, unknown>>): Entry[] {
    const stamp = ++this.lookups;
    const out = this.unindexed.slice();
    for (const pathIndex of this.paths) gather(event, pathIndex, 0, stamp, out);
    return out;
  }

  // Rebuilt lazily because the best field for one rule depends on all the others (rule sets change rarely).
  private rebuild(): void {
    const small = this.entries.size <= SCAN_AT_MOST;
    const popularity = small ? new Map<string, number>() : popularityOf(this.entries.values());
    const paths = new Map<string, PathIndex>();
    const unindexed: Entry[] = [];
    for (const entry of this.entries.values()) {
      const best = small ? undefined : mostSelective(entry, popularity);
      if (best === undefined) {
        unindexed.push(entry);
        continue;
      }
      let pathIndex = paths.get(best.pathKey);
      if (pathIndex === undefined) {
        pathIndex = { segments: best.segments, exact: new Map(), prefixes: new Map(), prefixLengths: [] };
        paths.set(best.pathKey, pathIndex);
      }
      fileUnder(pathIndex, best, entry);
    }
    this.paths = [...paths.values()];
    this.unindexed = unindexed;
    this.dirty = false;
  }
}
