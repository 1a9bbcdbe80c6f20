import type { Statement } from 'better-sqlite3';
import { ReboundError } from '../../errors.ts';
import type { StoredEvent } from '../../workflows/history.ts';
import type {
  AppendRequest,
  CallbackOutcome,
  ExecutionPage,
  ExecutionRecord,
  ExecutionUpdate,
  ListExecutionsQuery,
  TaskTokenRecord,
  TimerRecord,
  WorkflowStore,
} from '../../workflows/port.ts';
import type { ExecutionStatus } from '../../workflows/statuses.ts';
import type { Json, MachineDefinition } from '../../workflows/types.ts';
import type { Migration, SqliteDatabase } from './database.ts';
import { deleteInChunks, GroupCommitter } from './group-commit.ts';
import { decodeCursor, encodeCursor } from './pagination.ts';

export const workflowMigrations: Migration[] = [
  {
    id: 'workflows/0001_init',
    up: `
      CREATE TABLE wf_executions (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        machine_name TEXT NOT NULL,
        definition TEXT NOT NULL,
        input TEXT NOT NULL,
        status TEXT NOT NULL,
        start_time INTEGER NOT NULL,
        stop_time INTEGER,
        output TEXT,
        error TEXT,
        cause TEXT,
        correlation_id TEXT,
        redrive_count INTEGER NOT NULL DEFAULT 0,
        owner TEXT,
        lease_until INTEGER
      );
      CREATE INDEX wf_executions_by_time ON wf_executions (start_time DESC, id DESC);
      CREATE INDEX wf_executions_by_status ON wf_executions (status, start_time DESC, id DESC);
      CREATE INDEX wf_executions_by_lease ON wf_executions (status, lease_until);
      -- History is appended in chunks (the events of one flush, in id order): one row per write instead of
      -- one per event. On DynamoDB a chunk is one item keyed (execution, first event id).
      CREATE TABLE wf_history (
        execution_id TEXT NOT NULL,
        first_id INTEGER NOT NULL,
        last_id INTEGER NOT NULL,
        events TEXT NOT NULL,
        PRIMARY KEY (execution_id, first_id)
      ) WITHOUT ROWID;
      CREATE TABLE wf_timers (
        execution_id TEXT NOT NULL,
        key TEXT NOT NULL,
        fire_at INTEGER NOT NULL,
        fired_at INTEGER,
        PRIMARY KEY (execution_id, key)
      ) WITHOUT ROWID;
      CREATE INDEX wf_timers_due ON wf_timers (fire_at) WHERE fired_at IS NULL;
      CREATE TABLE wf_task_tokens (
        token TEXT PRIMARY KEY,
        execution_id TEXT NOT NULL,
        key TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_heartbeat INTEGER,
        outcome TEXT
      ) WITHOUT ROWID;
    `,
  },
  {
    // Retention deletes ended executions by age; a viewer's history hides every token an execution was issued.
    // A deleted execution's name stays taken (wf_retired_names): the bus starts a rule's runbook once per
    // event or incident by naming the execution after it, and a replay or a redriven dead letter must not
    // start it again once the first run is gone.
    id: 'workflows/0002_retention',
    up: `
      CREATE INDEX wf_executions_ended ON wf_executions (stop_time) WHERE status <> 'RUNNING';
      CREATE INDEX wf_task_tokens_by_execution ON wf_task_tokens (execution_id);
      CREATE TABLE wf_retired_names (
        name TEXT PRIMARY KEY,
        retired_at INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  },
];

/** Executions deleted per retention chunk (each with its history, timers and tokens). */
const DELETE_CHUNK = 100;

interface ExecutionRow {
  id: string;
  name: string;
  machine_name: string;
  definition: string;
  input: string;
  status: ExecutionStatus;
  start_time: number;
  stop_time: number | null;
  output: string | null;
  error: string | null;
  cause: string | null;
  correlation_id: string | null;
  redrive_count: number;
  owner: string | null;
  lease_until: number | null;
}

const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

/** The workflow store on SQLite: writes go through the GroupCommitter, so concurrent executions share fsyncs. */
export class SqliteWorkflowStore implements WorkflowStore {
  private readonly committer: GroupCommitter;
  private readonly stmt: Record<string, Statement>;

  constructor(
    private readonly db: SqliteDatabase,
    committer?: GroupCommitter,
  ) {
    this.committer = committer ?? new GroupCommitter(db);
    const p = (sql: string) => db.prepare(sql);
    this.stmt = {
      insertExecution:
        p(`INSERT INTO wf_executions (id, name, machine_name, definition, input, status, start_time,
        correlation_id, redrive_count, owner, lease_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      insertChunk: p('INSERT INTO wf_history (execution_id, first_id, last_id, events) VALUES (?, ?, ?, ?)'),
      owner: p('SELECT owner, status FROM wf_executions WHERE id = ?'),
      update: p(`UPDATE wf_executions SET status = ?, stop_time = ?, output = ?, error = ?, cause = ?,
        redrive_count = COALESCE(?, redrive_count), owner = CASE WHEN ? THEN NULL ELSE owner END,
        lease_until = CASE WHEN ? THEN NULL ELSE lease_until END WHERE id = ?`),
      history: p('SELECT events FROM wf_history WHERE execution_id = ? ORDER BY first_id'),
      get: p('SELECT * FROM wf_executions WHERE id = ?'),
      redrive:
        p(`UPDATE wf_executions SET status = 'RUNNING', owner = ?, lease_until = ?, redrive_count = ?, stop_time = NULL,
        output = NULL, error = NULL, cause = NULL WHERE id = ? AND status IN ('FAILED', 'TIMED_OUT', 'ABORTED')`),
      putTimer: p('INSERT OR IGNORE INTO wf_timers (execution_id, key, fire_at) VALUES (?, ?, ?)'),
      getTimer: p('SELECT fire_at FROM wf_timers WHERE execution_id = ? AND key = ?'),
      fireTimer: p(
        'UPDATE wf_timers SET fired_at = ? WHERE execution_id = ? AND key = ? AND fired_at IS NULL',
      ),
      timers: p('SELECT execution_id, key, fire_at, fired_at FROM wf_timers WHERE execution_id = ?'),
      due: p(
        'SELECT execution_id, key, fire_at, fired_at FROM wf_timers WHERE fired_at IS NULL AND fire_at <= ? ORDER BY fire_at LIMIT ?',
      ),
      lease: p(`UPDATE wf_executions SET owner = ?, lease_until = ? WHERE id = ? AND status = 'RUNNING'
        AND (owner IS NULL OR owner = ? OR lease_until < ?)`),
      renew: p(`UPDATE wf_executions SET lease_until = ? WHERE owner = ? AND status = 'RUNNING'`),
      claimable:
        p(`SELECT id FROM wf_executions WHERE status = 'RUNNING' AND (owner IS NULL OR owner = ? OR lease_until < ?)
        ORDER BY start_time LIMIT ?`),
      putToken: p(
        'INSERT OR IGNORE INTO wf_task_tokens (token, execution_id, key, created_at) VALUES (?, ?, ?, ?)',
      ),
      getToken: p('SELECT * FROM wf_task_tokens WHERE token = ?'),
      completeToken: p('UPDATE wf_task_tokens SET outcome = ? WHERE token = ? AND outcome IS NULL'),
      heartbeat: p('UPDATE wf_task_tokens SET last_heartbeat = ? WHERE token = ?'),
      tokensOf: p('SELECT token FROM wf_task_tokens WHERE execution_id = ?'),
      ended: p(`SELECT id, name FROM wf_executions WHERE status <> 'RUNNING' AND stop_time < ? LIMIT ?`),
      retireName: p('INSERT OR IGNORE INTO wf_retired_names (name, retired_at) VALUES (?, ?)'),
      retired: p('SELECT retired_at FROM wf_retired_names WHERE name = ?'),
      deleteHistory: p('DELETE FROM wf_history WHERE execution_id = ?'),
      deleteTimers: p('DELETE FROM wf_timers WHERE execution_id = ?'),
      deleteTokens: p('DELETE FROM wf_task_tokens WHERE execution_id = ?'),
      deleteExecution: p('DELETE FROM wf_executions WHERE id = ?'),
      savepoint: p('SAVEPOINT wf_append'),
      release: p('RELEASE wf_append'),
      rollbackTo: p('ROLLBACK TO wf_append'),
    };
  }

  createExecution(record: ExecutionRecord, events: readonly StoredEvent[]): Promise<void> {
    return this.committer.submit(() => {
      const retired = this.stmt['retired']!.get(record.name) as { retired_at: number } | undefined;
      if (retired)
        throw new ReboundError(
          'CONFLICT',
          `an execution named '${record.name}' ran before and was deleted by retention on ` +
            `${new Date(retired.retired_at).toISOString()} (workflows.retention.maxAgeDays); choose another name`,
        );
      try {
        this.stmt['insertExecution']!.run(
          record.id,
          record.name,
          record.machineName,
          definitionText(record.definition),
          JSON.stringify(record.input),
          record.status,
          record.startTime,
          record.correlationId ?? null,
          record.redriveCount,
          record.owner ?? null,
          record.leaseUntil ?? null,
        );
      } catch (err) {
        if ((err as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT')) {
          throw new ReboundError(
            'CONFLICT',
            `an execution named '${record.name}' already exists; choose another name`,
          );
        }
        throw err;
      }
      this.insertEvents(record.id, events);
    });
  }

  private insertEvents(executionId: string, events: readonly StoredEvent[]): void {
    if (events.length === 0) return;
    this.stmt['insertChunk']!.run(
      executionId,
      events[0]!.id,
      events[events.length - 1]!.id,
      JSON.stringify(events),
    );
  }

  appendEvents(
    executionId: string,
    owner: string,
    events: readonly StoredEvent[],
    update?: ExecutionUpdate,
  ): Promise<void> {
    return this.committer.submit(() => this.append({ executionId, owner, events, update }));
  }

  appendBatch(requests: readonly AppendRequest[]): Promise<(Error | undefined)[]> {
    return this.committer.submit(() => {
      // Ownership is checked before a request writes anything, so a request that lost its lease fails
      // without a savepoint of its own, and one savepoint covers the batch. A write that fails for any other
      // reason (rare: a constraint, the database) undoes the batch, which is then done again with a
      // savepoint per request: the failing request leaves nothing behind, the others still commit.
      this.stmt['savepoint']!.run();
      try {
        const results = requests.map((r) => this.appendUnlessRefused(r));
        this.stmt['release']!.run();
        return results;
      } catch {
        this.stmt['rollbackTo']!.run();
        this.stmt['release']!.run();
        return requests.map((r) => this.appendIsolated(r));
      }
    });
  }

  /** One request in a savepoint of its own: its error, if it fails, with nothing of it left behind. */
  private appendIsolated(r: AppendRequest): Error | undefined {
    this.stmt['savepoint']!.run();
    try {
      this.append(r);
      this.stmt['release']!.run();
      return undefined;
    } catch (err) {
      this.stmt['rollbackTo']!.run();
      this.stmt['release']!.run();
      return err instanceof Error ? err : new Error(String(err));
    }
  }

  private append(r: AppendRequest): void {
    const refused = this.appendUnlessRefused(r);
    if (refused) throw refused;
  }

  /** Writes the request unless this worker may not; returns why not (nothing written then). */
  private appendUnlessRefused(r: AppendRequest): ReboundError | undefined {
    const refused = this.refusal(r);
    if (!refused) this.write(r);
    return refused;
  }

  /** Why this worker may not write to the execution (it does not exist, or another worker owns it). */
  private refusal(r: AppendRequest): ReboundError | undefined {
    const row = this.stmt['owner']!.get(r.executionId) as
      { owner: string | null; status: string } | undefined;
    if (!row) return new ReboundError('NOT_FOUND', `execution '${r.executionId}' does not exist`);
    if (row.owner !== r.owner) {
      return new ReboundError(
        'CONFLICT',
        `execution '${r.executionId}' is now owned by ${row.owner ?? 'nobody'}; this worker lost its lease`,
      );
    }
    return undefined;
  }

  private write(r: AppendRequest): void {
    this.insertEvents(r.executionId, r.events);
    const update = r.update;
    if (update) {
      const release = update.releaseLease ? 1 : 0;
      this.stmt['update']!.run(
        update.status,
        update.stopTime ?? null,
        update.output === undefined ? null : JSON.stringify(update.output),
        update.error ?? null,
        update.cause ?? null,
        update.redriveCount ?? null,
        release,
        release,
        r.executionId,
      );
    }
  }

  async loadHistory(executionId: string): Promise<StoredEvent[]> {
    const rows = this.stmt['history']!.all(executionId) as { events: string }[];
    return rows.flatMap((r) => JSON.parse(r.events) as StoredEvent[]);
  }

  async getExecution(executionId: string): Promise<ExecutionRecord | undefined> {
    const row = this.stmt['get']!.get(executionId) as ExecutionRow | undefined;
    return row && toRecord(row);
  }

  async listExecutions(query: ListExecutionsQuery): Promise<ExecutionPage> {
    const limit = Math.max(1, Math.min(query.limit, 1000));
    const where: string[] = [];
    const args: unknown[] = [];
    if (query.status) {
      where.push('status = ?');
      args.push(query.status);
    }
    if (query.cursor) {
      const [time, id] = decodeCursor(query.cursor, ['number', 'string']);
      where.push('(start_time < ? OR (start_time = ? AND id < ?))');
      args.push(time, time, id);
    }
    const sql = `SELECT id, name, machine_name, status, start_time, stop_time, error, cause, correlation_id, redrive_count,
      owner, lease_until, '{}' AS definition, 'null' AS input, NULL AS output FROM wf_executions
      ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY start_time DESC, id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, limit + 1) as ExecutionRow[];
    const page = rows.slice(0, limit).map((r) => {
      const { definition: _d, input: _i, output: _o, ...summary } = toRecord(r);
      return summary;
    });
    const last = rows.length > limit ? page[page.length - 1] : undefined;
    return { items: page, nextCursor: last && encodeCursor([last.startTime, last.id]) };
  }

  redriveExecution(
    executionId: string,
    owner: string,
    leaseUntil: number,
    event: StoredEvent,
    redriveCount: number,
  ): Promise<void> {
    return this.committer.submit(() => {
      const changed = this.stmt['redrive']!.run(owner, leaseUntil, redriveCount, executionId).changes;
      if (changed !== 1) {
        if (!this.stmt['get']!.get(executionId))
          throw new ReboundError(
            'NOT_FOUND',
            `execution '${executionId}' no longer exists: retention deleted it (workflows.retention.maxAgeDays)`,
          );
        throw new ReboundError(
          'CONFLICT',
          `execution '${executionId}' cannot be redriven: it is running or succeeded`,
        );
      }
      this.insertEvents(executionId, [event]);
    });
  }

  putTimer(timer: TimerRecord): Promise<number> {
    return this.committer.submit(() => {
      this.stmt['putTimer']!.run(timer.executionId, timer.key, timer.fireAt);
      return (this.stmt['getTimer']!.get(timer.executionId, timer.key) as { fire_at: number }).fire_at;
    });
  }

  markTimerFired(executionId: string, key: string, firedAt: number): Promise<void> {
    return this.committer.submit(() => {
      this.stmt['fireTimer']!.run(firedAt, executionId, key);
    });
  }

  async loadTimers(executionId: string): Promise<TimerRecord[]> {
    return (this.stmt['timers']!.all(executionId) as TimerRow[]).map(toTimer);
  }

  async dueTimers(before: number, limit: number): Promise<TimerRecord[]> {
    return (this.stmt['due']!.all(before, limit) as TimerRow[]).map(toTimer);
  }

  acquireLease(executionId: string, owner: string, until: number, now: number): Promise<boolean> {
    return this.committer.submit(
      () => this.stmt['lease']!.run(owner, until, executionId, owner, now).changes === 1,
    );
  }

  renewLeases(owner: string, until: number): Promise<void> {
    return this.committer.submit(() => {
      this.stmt['renew']!.run(until, owner);
    });
  }

  async claimableExecutions(owner: string, now: number, limit: number): Promise<string[]> {
    return (this.stmt['claimable']!.all(owner, now, limit) as { id: string }[]).map((r) => r.id);
  }

  putTaskToken(record: TaskTokenRecord): Promise<void> {
    return this.committer.submit(() => {
      this.stmt['putToken']!.run(record.token, record.executionId, record.key, record.createdAt);
    });
  }

  async getTaskToken(token: string): Promise<TaskTokenRecord | undefined> {
    const row = this.stmt['getToken']!.get(token) as
      | {
          token: string;
          execution_id: string;
          key: string;
          created_at: number;
          last_heartbeat: number | null;
          outcome: string | null;
        }
      | undefined;
    if (!row) return undefined;
    return {
      token: row.token,
      executionId: row.execution_id,
      key: row.key,
      createdAt: row.created_at,
      lastHeartbeat: opt(row.last_heartbeat),
      outcome: row.outcome === null ? undefined : (JSON.parse(row.outcome) as CallbackOutcome),
    };
  }

  completeTaskToken(token: string, outcome: CallbackOutcome): Promise<boolean> {
    return this.committer.submit(
      () => this.stmt['completeToken']!.run(JSON.stringify(outcome), token).changes === 1,
    );
  }

  heartbeatTaskToken(token: string, at: number): Promise<void> {
    return this.committer.submit(() => {
      this.stmt['heartbeat']!.run(at, token);
    });
  }

  async taskTokensOf(executionId: string): Promise<string[]> {
    return (this.stmt['tokensOf']!.all(executionId) as { token: string }[]).map((row) => row.token);
  }

  deleteEndedBefore(cutoff: number, signal?: AbortSignal): Promise<number> {
    // Chosen and deleted in one unit: a redrive (which sets the status back to RUNNING) comes before or after.
    const deleteChunk = () => {
      const ended = this.stmt['ended']!.all(cutoff, DELETE_CHUNK) as { id: string; name: string }[];
      const now = Date.now();
      for (const { id, name } of ended) {
        for (const table of ['deleteHistory', 'deleteTimers', 'deleteTokens', 'deleteExecution'])
          this.stmt[table]!.run(id);
        this.stmt['retireName']!.run(name, now);
      }
      return ended.length;
    };
    return deleteInChunks(this.committer, deleteChunk, DELETE_CHUNK, signal);
  }
}

interface TimerRow {
  execution_id: string;
  key: string;
  fire_at: number;
  fired_at: number | null;
}

function toTimer(r: TimerRow): TimerRecord {
  return { executionId: r.execution_id, key: r.key, fireAt: r.fire_at, firedAt: opt(r.fired_at) };
}

function toRecord(r: ExecutionRow): ExecutionRecord {
  return {
    id: r.id,
    name: r.name,
    machineName: r.machine_name,
    definition: JSON.parse(r.definition) as MachineDefinition,
    input: JSON.parse(r.input) as Json,
    status: r.status,
    startTime: r.start_time,
    stopTime: opt(r.stop_time),
    output: r.output === null ? undefined : (JSON.parse(r.output) as Json),
    error: opt(r.error),
    cause: opt(r.cause),
    correlationId: opt(r.correlation_id),
    redriveCount: r.redrive_count,
    owner: opt(r.owner),
    leaseUntil: opt(r.lease_until),
  };
}

const definitionTexts = new WeakMap<object, string>();

/** Many executions share one definition object (a registered runbook): serialise it once. */
function definitionText(definition: MachineDefinition): string {
  let text = definitionTexts.get(definition);
  if (text === undefined) {
    text = JSON.stringify(definition);
    definitionTexts.set(definition, text);
  }
  return text;
}
