import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite, runMigrations, type SqliteDatabase } from '../../src/store/sqlite/database.ts';
import { SqliteWorkflowStore, workflowMigrations } from '../../src/store/sqlite/workflows.ts';
import { ManualClock } from '../../src/workflows/clock.ts';
import { Engine, type EngineOptions } from '../../src/workflows/engine.ts';
import { HandlerRunner, type TaskHandler } from '../../src/workflows/local-runner.ts';
import { runOnce, type RunResult } from '../../src/workflows/run-once.ts';
import { isTerminal } from '../../src/workflows/statuses.ts';
import type { Json, MachineDefinition } from '../../src/workflows/types.ts';

/** Runs a definition to completion on a real temporary SQLite database. */
export function run(
  definition: unknown,
  input: Json = {},
  handlers: Record<string, TaskHandler> = {},
): Promise<RunResult> {
  return runOnce(definition as MachineDefinition, input, {
    runner: new HandlerRunner(handlers),
    schemaCheck: false,
  });
}

/** A real SQLite file, an engine on a manual clock, and helpers to restart the engine on the same file. */
export class Fixture {
  readonly dir = mkdtempSync(join(tmpdir(), 'rebound-wf-'));
  readonly clock = new ManualClock();
  db: SqliteDatabase;
  store: SqliteWorkflowStore;
  engine: Engine;

  constructor(
    private readonly handlers: Record<string, TaskHandler>,
    private readonly extra: Partial<EngineOptions> = {},
  ) {
    this.db = this.open();
    this.store = new SqliteWorkflowStore(this.db);
    this.engine = this.newEngine();
  }

  private open(): SqliteDatabase {
    const db = openSqlite({ path: join(this.dir, 'wf.db'), synchronous: 'NORMAL' });
    runMigrations(db, workflowMigrations);
    return db;
  }

  newEngine(options: Partial<EngineOptions> = {}): Engine {
    return new Engine({
      store: this.store,
      runner: new HandlerRunner(this.handlers),
      clock: this.clock,
      workerId: 'worker-a',
      leaseMs: 60_000,
      reaperIntervalMs: 3_600_000,
      schemaCheckInline: false,
      ...this.extra,
      ...options,
    });
  }

  /** Simulates a crash-free restart: the old engine detaches, a new one on a reopened database resumes. */
  async restart(options: Partial<EngineOptions> = {}): Promise<void> {
    await this.engine.stop();
    this.db.close();
    this.db = this.open();
    this.store = new SqliteWorkflowStore(this.db);
    this.engine = this.newEngine(options);
    await this.engine.start();
  }

  /** Lets the engine work, moving the manual clock one second whenever nothing else is left to do. */
  async settle(executionId: string, maxSeconds = 100_000): Promise<void> {
    for (let i = 0; i < maxSeconds * 4; i += 1) {
      const record = await this.store.getExecution(executionId);
      if (record && isTerminal(record.status)) return;
      await idle();
      if (i % 4 === 3) this.clock.advance(1000);
    }
    throw new Error(`execution ${executionId} did not finish`);
  }

  async close(): Promise<void> {
    await this.engine.stop();
    this.db.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Waits for pending I/O callbacks and group commits (a few event-loop turns). */
export async function idle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i += 1) await new Promise((r) => setImmediate(r));
}

export const pass = (extra: Record<string, unknown> = {}) => ({ Type: 'Pass', End: true, ...extra });

/** A one-state machine. */
export const single = (state: Record<string, unknown>, top: Record<string, unknown> = {}) => ({
  StartAt: 'S',
  States: { S: { End: true, ...state } },
  ...top,
});
