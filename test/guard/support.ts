import { afterEach, beforeEach } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { z } from 'zod';
import type { ActionContext, ActionDefinition, ActionResult, ActionRunner } from '../../src/actions/types.ts';
import { guardConfigSchema, type GuardConfigInput } from '../../src/guard/config.ts';
import type { IncidentReader } from '../../src/guard/port.ts';
import { GuardedRunner } from '../../src/guard/runner.ts';
import type { GuardedActionContext, GuardVerdict } from '../../src/guard/verdict.ts';
import { openSqlite, runMigrations, type SqliteDatabase } from '../../src/store/sqlite/database.ts';
import { guardMigrations, SqliteGuardStore } from '../../src/store/sqlite/guard.ts';

/** A clock the test moves by hand. */
export class TestClock {
  private ms: number;
  constructor(start = '2026-11-25T12:00:00.000Z') {
    this.ms = Date.parse(start);
  }
  now = (): Date => new Date(this.ms);
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** A promise the test resolves when it wants. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Rejects with the signal's reason once it aborts, as a well-behaved action stops when told to. */
function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const stop = (): void => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
}

const bumpParams = z
  .object({
    cluster: z.string().default('prod'),
    namespace: z.string().optional(),
    kind: z.string().default('Deployment'),
    name: z.string(),
    fail: z.boolean().default(false),
    /** With `fail`: the write was sent (and may have landed) before the failure. */
    failAfterWrite: z.boolean().default(false),
    /** Sends its write first (telling the rails), then waits at the gate: cut off there, it may have landed. */
    writeFirst: z.boolean().default(false),
    /** Finds nothing to do (a `noop` result, nothing written). */
    noop: z.boolean().default(false),
    /** Pods (`namespace/name`) the bump also changes, asked about through ctx.alsoChanges first. */
    also: z.array(z.string()).default([]),
  })
  .strict();
type BumpParams = z.output<typeof bumpParams>;

export interface RecordedCall {
  readonly params: BumpParams;
  readonly shadow: boolean;
  readonly idempotencyKey: string;
}

/**
 * A fake mutating action: it "bumps" a counter per target unless in shadow mode, records every call, and
 * can be held mid-action by a gate so tests can race two callers deterministically.
 */
export class BumpAction {
  readonly calls: RecordedCall[] = [];
  readonly applied = new Map<string, number>();
  /** While set, running actions wait on it; `started` resolves when one is inside. */
  gate: Promise<void> | undefined;
  started = deferred();

  readonly definition: ActionDefinition<BumpParams, { before: number; after: number }> = {
    name: 'test.bump',
    description: 'bumps a counter on a target',
    mutating: true,
    reportsChanges: true,
    params: bumpParams,
    target: (p) => ({
      cluster: p.cluster,
      kind: p.kind,
      name: p.name,
      ...(p.namespace === undefined ? {} : { namespace: p.namespace }),
    }),
    run: async (p, ctx) => {
      this.calls.push({ params: p, shadow: ctx.shadow, idempotencyKey: ctx.idempotencyKey });
      this.started.resolve();
      if (p.writeFirst) ctx.onChange?.();
      if (this.gate) await Promise.race([this.gate, aborted(ctx.signal)]);
      await ctx.alsoChanges?.(
        p.also.map((pod) => {
          const [namespace, name] = pod.split('/') as [string, string];
          return { cluster: p.cluster, namespace, kind: 'Pod', name };
        }),
      );
      const key = `${p.namespace ?? '-'}/${p.name}`;
      const before = this.applied.get(key) ?? 0;
      if (p.noop) return { output: { before, after: before }, writes: [], noop: true };
      if (p.fail && p.failAfterWrite) ctx.onChange?.();
      if (p.fail) throw new Error(`bump of ${p.name} failed`);
      const write = {
        method: 'PATCH',
        path: `/bump/${key}`,
        contentType: 'application/merge-patch+json',
        body: { n: before + 1 },
      };
      if (!ctx.shadow) {
        this.applied.set(key, before + 1);
        ctx.onChange?.();
      }
      return { output: { before, after: before + 1 }, writes: [write] };
    },
  };

  /** The same action under another name, not telling the rails of its writes (no `reportsChanges`). */
  readonly quiet: ActionDefinition<BumpParams, { before: number; after: number }> = {
    ...this.definition,
    name: 'test.bumpQuietly',
    reportsChanges: false,
  };

  readonly readOnly: ActionDefinition<{ name: string }, { seen: string }> = {
    name: 'test.look',
    description: 'reads only',
    mutating: false,
    readOnly: true,
    params: z.object({ name: z.string() }),
    run: (p) => Promise.resolve({ output: { seen: p.name }, writes: [] }),
  };
}

/** The plain registry-like runner the guard wraps: validates parameters and runs the definition. */
export function plainRunner(definitions: readonly ActionDefinition[]): ActionRunner {
  const byName = new Map(definitions.map((d) => [d.name, d]));
  return {
    has: (name) => byName.has(name),
    run: async (name, params, ctx): Promise<ActionResult> => {
      const d = byName.get(name);
      if (!d) throw new Error(`no action ${name}`);
      return d.run(d.params.parse(params), ctx);
    },
  };
}

/** An incident reader whose answers the test sets. */
export class Incidents implements IncidentReader {
  readonly states = new Map<string, 'firing' | 'resolved' | 'unknown'>();
  reads = 0;
  getIncidentFiringState(id: string): Promise<'firing' | 'resolved' | 'unknown'> {
    this.reads += 1;
    return Promise.resolve(this.states.get(id) ?? 'unknown');
  }
}

/** A temp dir with a guard database file; `open()` gives a new connection to the same file. */
export class GuardDb {
  readonly dir = mkdtempSync(join(tmpdir(), 'rebound-guard-'));
  readonly path = join(this.dir, 'guard.db');
  private readonly open_: SqliteDatabase[] = [];
  open(): SqliteDatabase {
    const db = openSqlite({ path: this.path, synchronous: 'NORMAL' });
    runMigrations(db, guardMigrations);
    this.open_.push(db);
    return db;
  }
  close(): void {
    for (const db of this.open_) if (db.open) db.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A fresh guard database for each test of the enclosing `describe`, closed and removed after it. */
export function guardDbPerTest(): () => GuardDb {
  let db: GuardDb | undefined;
  beforeEach(() => {
    db = new GuardDb();
  });
  afterEach(() => db?.close());
  return () => db!;
}

export interface Harness {
  readonly runner: GuardedRunner;
  readonly action: BumpAction;
  readonly verdicts: GuardVerdict[];
  readonly incidents: Incidents;
  readonly clock: TestClock;
  readonly registry: Registry;
  readonly store: SqliteGuardStore;
}

export interface HarnessOptions {
  readonly config?: GuardConfigInput;
  readonly db: SqliteDatabase;
  readonly clock?: TestClock;
  readonly action?: BumpAction;
  readonly incidents?: Incidents;
}

/** A guarded runner over a real SQLite store and the fake action, allowing namespace `shop` by default. */
export function harness(options: HarnessOptions): Harness {
  const action = options.action ?? new BumpAction();
  const clock = options.clock ?? new TestClock();
  const incidents = options.incidents ?? new Incidents();
  const registry = new Registry();
  const verdicts: GuardVerdict[] = [];
  const config = guardConfigSchema.parse({
    allowlist: { namespaces: ['shop', 'team-*'] },
    lock: { pollInterval: 5 },
    ...options.config,
  });
  const store = new SqliteGuardStore(options.db);
  const definitions: ActionDefinition[] = [action.definition, action.quiet, action.readOnly];
  const runner = new GuardedRunner({
    inner: plainRunner(definitions),
    actions: definitions,
    store,
    config,
    incidents,
    now: clock.now,
    registry,
    onVerdict: (v) => void verdicts.push(v),
    instanceId: 'test',
  });
  return { runner, action, verdicts, incidents, clock, registry, store };
}

let keys = 0;
/** A fresh action context; pass overrides for shadow, incident, runbook, labels or a fixed key. */
export function ctx(overrides: Partial<GuardedActionContext> = {}): GuardedActionContext {
  keys += 1;
  const base: ActionContext = {
    idempotencyKey: `exec-1/Restart/${keys}`,
    shadow: false,
    signal: new AbortController().signal,
    correlationId: 'corr-1',
    now: () => new Date(),
  };
  return { ...base, ...overrides };
}
