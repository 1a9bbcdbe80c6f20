// `npm run bench -- workflows`: durable state transitions per second of the embedded engine (SQLite,
// synchronous=FULL, every event group-committed) beside aws-local-stepfunctions' in-memory rate, same run.
import '../polyfill.mjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqlite, runMigrations } from '../src/store/sqlite/database.ts';
import { BackgroundCheckpointer } from '../src/store/sqlite/checkpointer.ts';
import { GroupCommitter } from '../src/store/sqlite/group-commit.ts';
import { SqliteWorkflowStore, workflowMigrations } from '../src/store/sqlite/workflows.ts';
import { Engine } from '../src/workflows/engine.ts';
import { HandlerRunner } from '../src/workflows/local-runner.ts';
import type { MachineDefinition } from '../src/workflows/types.ts';
import { createLogger } from '../src/telemetry/logger.ts';
import { fmt, line, median } from './_stats.ts';

const silent = createLogger({ level: 'warn' });

const RUNS = 5;
const STATES_PER_EXECUTION = 5;

/** Task → Choice → Wait 0 → Task → Succeed. */
const machine = {
  StartAt: 'Check',
  States: {
    Check: {
      Type: 'Task',
      Resource: 'arn:aws:lambda:us-east-1:123456789012:function:Check',
      ResultPath: '$.check',
      Next: 'Route',
    },
    Route: {
      Type: 'Choice',
      Choices: [{ Variable: '$.check.ok', BooleanEquals: true, Next: 'Settle' }],
      Default: 'Act',
    },
    Settle: { Type: 'Wait', Seconds: 0, Next: 'Act' },
    Act: {
      Type: 'Task',
      Resource: 'arn:aws:lambda:us-east-1:123456789012:function:Act',
      ResultPath: '$.act',
      Next: 'Done',
    },
    Done: { Type: 'Succeed' },
  },
} as const;

const handlers = {
  'arn:aws:lambda:us-east-1:123456789012:function:Check': async () => ({ ok: true }),
  'arn:aws:lambda:us-east-1:123456789012:function:Act': async (input: unknown) => ({
    acted: (input as { n: number }).n,
  }),
};

/** The last durable run's group commits: how many per execution, and each one's BEGIN → WAL synced in ms. */
let commitMs: number[] = [];
let commitsPerExecution = 0;

/** Transitions per second, and CPU µs per transition (this process, all threads) over the same span. */
interface Measured {
  readonly rate: number;
  readonly cpu: number;
}

/**
 * Runs `worker` on `concurrency` loops and measures only that: opening the database, compiling the machine
 * and closing up cost CPU that is no interpreter's per-transition work (the in-memory interpreter's
 * constructor validates the definition with a JSON-schema compiler, more CPU than 500 executions).
 */
async function measure(concurrency: number, total: number, worker: () => Promise<void>): Promise<Measured> {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const transitions = total * STATES_PER_EXECUTION;
  return { rate: transitions / seconds, cpu: (cpu.user + cpu.system) / transitions };
}

/** Runs `total` executions with at most `concurrency` in flight. */
async function durableRate(concurrency: number, total: number): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'rebound-bench-wf-'));
  const path = join(dir, 'wf.db');
  const db = openSqlite({ path, synchronous: 'FULL' });
  runMigrations(db, workflowMigrations);
  // As the server runs it: group commits synced off the event loop, checkpoints on a worker thread.
  const committer = new GroupCommitter(db);
  commitMs = [];
  committer.observe((ms) => commitMs.push(ms));
  const checkpointer = new BackgroundCheckpointer(db, path, { logger: silent });
  const engine = new Engine({
    store: new SqliteWorkflowStore(db, committer),
    runner: new HandlerRunner(handlers),
    workerId: 'bench',
    schemaCheckInline: false,
  });
  let next = 0;
  const measured = await measure(concurrency, total, async () => {
    while (next < total) {
      const n = next++;
      const { executionId } = await engine.startExecution(
        machine as unknown as MachineDefinition,
        { n },
        { name: `e${n}` },
      );
      const record = await engine.waitFor(executionId);
      if (record.status !== 'SUCCEEDED') throw new Error(`execution ${executionId} ended ${record.status}`);
    }
  });
  commitsPerExecution = committer.stats().commits / total;
  await engine.stop();
  committer.flush(); // as the server does before closing: the WAL syncer's descriptor is closed with it
  await checkpointer.stop();
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return measured;
}

async function inMemoryRate(concurrency: number, total: number): Promise<Measured> {
  const { StateMachine } = await import('aws-local-stepfunctions');
  const sm = new StateMachine(machine as never, { validationOptions: { checkArn: false } });
  const taskResourceLocalHandlers = {
    Check: handlers['arn:aws:lambda:us-east-1:123456789012:function:Check'],
    Act: handlers['arn:aws:lambda:us-east-1:123456789012:function:Act'],
  };
  let next = 0;
  return measure(concurrency, total, async () => {
    while (next < total) {
      const n = next++;
      await sm.run({ n }, { overrides: { taskResourceLocalHandlers: taskResourceLocalHandlers as never } })
        .result;
    }
  });
}

export async function run(): Promise<void> {
  process.stdout.write(
    `workflows: ${STATES_PER_EXECUTION}-state machine (Task → Choice → Wait 0 → Task → Succeed), median of ${RUNS}\n`,
  );
  for (const [concurrency, total] of [
    [1, 500],
    [1000, 5000],
  ] as const) {
    // CPU per transition: other load on a shared machine stretches the wall-clock rates, by different amounts
    // from run to run, but hardly changes CPU.
    const durable: Measured[] = [];
    const memory: Measured[] = [];
    // One unmeasured round first, so both interpreters are compiled by the JIT before they are timed.
    await durableRate(concurrency, Math.min(total, 1000));
    await inMemoryRate(concurrency, Math.min(total, 1000));
    for (let i = 0; i < RUNS; i += 1) {
      durable.push(await durableRate(concurrency, total));
      memory.push(await inMemoryRate(concurrency, total));
    }
    const d = median(durable.map((r) => r.rate));
    const m = median(memory.map((r) => r.rate));
    line(
      `durable transitions/s, ${concurrency} concurrent`,
      fmt(d),
      `(${total} executions per run, SQLite synchronous=FULL)`,
    );
    line(`aws-local-stepfunctions in-memory, ${concurrency} concurrent`, fmt(m));
    line(
      `ratio durable / in-memory`,
      fmt(d / m, 2),
      `${d >= 10_000 ? 'meets' : 'below'} the 10,000/s target; ${d / m >= 0.25 ? 'meets' : 'below'} the 1/4 ratio target`,
    );
    if (concurrency === 1) {
      // One execution at a time waits for each of its commits in turn: the disk's sync time bounds the rate.
      const commit = commitMs.reduce((a, b) => a + b, 0) / commitMs.length; // a rate bound: the mean
      line(
        `  durable commits per execution × mean commit`,
        `${fmt(commitsPerExecution, 1)} × ${fmt(commit, 2)} ms`,
        `ceiling ${fmt(STATES_PER_EXECUTION / ((commitsPerExecution * commit) / 1000))} transitions/s from waiting for commits alone`,
      );
    }
    const dc = median(durable.map((r) => r.cpu));
    const mc = median(memory.map((r) => r.cpu));
    line(
      `CPU per transition durable / in-memory`,
      `${fmt(dc, 1)} / ${fmt(mc, 1)} µs`,
      `in-memory / durable = ${fmt(mc / dc, 2)} (the ratio without other load)`,
    );
  }
}
