// A Rebound workflow engine in its own process, for crash tests: the parent SIGKILLs it at random points
// and starts it again on the same database until every execution has finished.
import Database from 'better-sqlite3';
import { openSqlite, runMigrations } from '../../src/store/sqlite/database.ts';
import { SqliteWorkflowStore, workflowMigrations } from '../../src/store/sqlite/workflows.ts';
import { Engine } from '../../src/workflows/engine.ts';
import { HandlerRunner, type TaskHandler } from '../../src/workflows/local-runner.ts';
import { isTerminal } from '../../src/workflows/statuses.ts';
import type { MachineDefinition } from '../../src/workflows/types.ts';

const [dbPath, effectsPath, countArg] = process.argv.slice(2) as [string, string, string];
const count = Number(countArg);

// Side effects are applied at most once per idempotency key (as actions must); every request is counted.
const effects = new Database(effectsPath);
effects.pragma('journal_mode = WAL');
effects.pragma('synchronous = FULL');
effects.exec('CREATE TABLE IF NOT EXISTS effects (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
effects.exec('CREATE TABLE IF NOT EXISTS requests (n INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL)');
const apply = (key: string, value: unknown) => {
  effects.prepare('INSERT INTO requests (key) VALUES (?)').run(key);
  effects.prepare('INSERT OR IGNORE INTO effects (key, value) VALUES (?, ?)').run(key, JSON.stringify(value));
  return JSON.parse(
    (effects.prepare('SELECT value FROM effects WHERE key = ?').get(key) as { value: string }).value,
  ) as unknown;
};
const attemptOf = (key: string) => Number(key.split('/a').pop());

const handlers: Record<string, TaskHandler> = {
  prepare: async (input) =>
    apply(`${(input as { id: string }).id}:prepare`, { prepared: (input as { id: string }).id }),
  flaky: async (input, ctx) => {
    await new Promise((r) => setTimeout(r, 300));
    if (attemptOf(ctx.idempotencyKey) < 2) throw Object.assign(new Error('try again'), { name: 'Flaky' });
    return apply(ctx.idempotencyKey, { scaled: (input as { n: number }).n * 2 });
  },
  approve: async (input, ctx) => {
    const token = (input as { token: string }).token;
    apply(ctx.idempotencyKey, { asked: true });
    setTimeout(() => {
      engine.sendTaskSuccess(token, { approvedBy: 'robot' }).catch(() => undefined);
    }, 150);
    return { sent: true };
  },
  work: async (input, ctx) => {
    await new Promise((r) => setTimeout(r, 300));
    return apply(ctx.idempotencyKey, { done: input });
  },
};

const runbook = {
  StartAt: 'Prepare',
  States: {
    Prepare: {
      Type: 'Task',
      Resource: 'prepare',
      Parameters: { 'id.$': '$$.Execution.Name' },
      ResultPath: '$.prep',
      Next: 'Pause',
    },
    Pause: { Type: 'Wait', Seconds: 2, Next: 'Scale' },
    Scale: {
      Type: 'Task',
      Resource: 'flaky',
      Parameters: { 'n.$': '$.n' },
      Retry: [{ ErrorEquals: ['Flaky'], IntervalSeconds: 1, BackoffRate: 1, MaxAttempts: 3 }],
      ResultPath: '$.scale',
      Next: 'Approve',
    },
    Approve: {
      Type: 'Task',
      Resource: 'approve.waitForTaskToken',
      Parameters: { 'token.$': '$$.Task.Token' },
      TimeoutSeconds: 300,
      ResultPath: '$.approval',
      Next: 'Both',
    },
    Both: {
      Type: 'Parallel',
      Branches: [
        {
          StartAt: 'L1',
          States: {
            L1: { Type: 'Task', Resource: 'work', Parameters: { side: 'left' }, Next: 'L2' },
            L2: { Type: 'Wait', Seconds: 1, End: true },
          },
        },
        {
          StartAt: 'R1',
          States: { R1: { Type: 'Task', Resource: 'work', Parameters: { side: 'right' }, End: true } },
        },
      ],
      ResultPath: '$.both',
      Next: 'Each',
    },
    Each: {
      Type: 'Map',
      ItemsPath: '$.items',
      MaxConcurrency: 1,
      ItemProcessor: { StartAt: 'Item', States: { Item: { Type: 'Task', Resource: 'work', End: true } } },
      ResultPath: '$.each',
      End: true,
    },
  },
};

const db = openSqlite({ path: dbPath });
runMigrations(db, workflowMigrations);
const store = new SqliteWorkflowStore(db);
const engine = new Engine({
  store,
  runner: new HandlerRunner(handlers),
  workerId: 'crash-worker',
  leaseMs: 60_000,
  reaperIntervalMs: 1000,
  schemaCheckInline: false,
});
await engine.start();
for (let i = 0; i < count; i += 1) {
  try {
    await engine.startExecution(
      runbook as unknown as MachineDefinition,
      { n: i, items: [i, i + 1, i + 2, i + 3, i + 4, i + 5] },
      { name: `run-${i}` },
    );
  } catch (err) {
    if ((err as { code?: string }).code !== 'CONFLICT') throw err;
  }
}
process.stdout.write('STARTED\n');
for (;;) {
  const page = await store.listExecutions({ limit: 1000 });
  if (page.items.length === count && page.items.every((e) => isTerminal(e.status))) break;
  await new Promise((r) => setTimeout(r, 100));
}
await engine.stop();
db.close();
effects.close();
process.stdout.write('DONE\n');
