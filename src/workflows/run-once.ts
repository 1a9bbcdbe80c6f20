import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActionRunner } from '../actions/types.ts';
import { describeError } from '../errors.ts';
import { openSqlite, runMigrations } from '../store/sqlite/database.ts';
import { SqliteWorkflowStore, workflowMigrations } from '../store/sqlite/workflows.ts';
import type { Clock } from './clock.ts';
import { Engine } from './engine.ts';
import type { HistoryEvent } from './history.ts';
import type { ExecutionStatus } from './statuses.ts';
import type { Json, MachineDefinition } from './types.ts';

/** The stable result of `rebound workflow run`: what conformance suites compare. */
export interface RunResult {
  readonly status: ExecutionStatus;
  readonly output: Json | null;
  readonly error: string | null;
  readonly cause: string | null;
  readonly history: HistoryEvent[];
}

export interface RunOnceOptions {
  readonly runner: ActionRunner;
  readonly clock?: Clock;
  /** Directory for the temporary database; removed afterwards. */
  readonly tmpDir?: string;
  /** Run asl-validator's (slow) schema check; Rebound's own checks always run. Default true. */
  readonly schemaCheck?: boolean;
}

/** Runs one execution to its end in-process, on a temporary SQLite database, and returns its result. */
export async function runOnce(
  definition: MachineDefinition,
  input: Json,
  options: RunOnceOptions,
): Promise<RunResult> {
  const dir = mkdtempSync(join(options.tmpDir ?? tmpdir(), 'rebound-run-'));
  const db = openSqlite({ path: join(dir, 'workflows.db'), synchronous: 'NORMAL' });
  // The engine's timers (Wait, retry backoff, timeouts) do not hold a process open, as a server wants. Here
  // nothing else may be pending while a Wait runs: without this, Node would exit mid-run (code 13, an
  // unsettled top-level await) with no output and the temporary directory left behind.
  const keepAlive = setInterval(() => undefined, 2 ** 30);
  try {
    runMigrations(db, workflowMigrations);
    let failure: unknown;
    const engine = new Engine({
      onError: (_id, err) => (failure ??= err),
      store: new SqliteWorkflowStore(db),
      runner: options.runner,
      clock: options.clock,
      workerId: 'run-once',
      schemaCheckInline: options.schemaCheck ?? true,
    });
    const started = await engine.startExecution(definition, input, { name: 'run' });
    const record = await engine.waitFor(started.executionId);
    // Still running here means the engine stopped it (its history could not be written, say): no result.
    if (record.status === 'RUNNING')
      throw new Error(`the execution stopped before its end: ${describeError(failure ?? 'no reason given')}`);
    const history = await engine.history(started.executionId);
    return {
      status: record.status,
      output: record.status === 'SUCCEEDED' ? (record.output ?? null) : null,
      error: record.error ?? null,
      cause: record.cause ?? null,
      history,
    };
  } finally {
    clearInterval(keepAlive);
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
