import { closeSync, fdatasync, fdatasyncSync, openSync } from 'node:fs';
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './database.ts';

const EMPTY_SEQUENCES: ReadonlyMap<string, number> = new Map();
/** After a failed WAL sync, how long until the next attempt. */
const SYNC_RETRY_MS = 1000;

/** How a unit settles: after the WAL sync that covers its COMMIT (`submit`), or at COMMIT (`submitUnsynced`). */
type Settles = 'durable' | 'unsynced';

interface Pending {
  readonly work: () => unknown;
  readonly settles: Settles;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
}

/** A committed unit waiting for the WAL sync that makes it durable. */
interface Committed {
  readonly unit: Pending;
  readonly ok: boolean;
  readonly value: unknown;
  /** What the unit asked to run once its COMMIT is durable (`whenDurable`); dropped if the unit failed. */
  readonly onDurable: (() => void)[];
}

export interface GroupCommitStats {
  readonly commits: number;
  readonly units: number;
  /** WAL syncs this committer ran (0 when SQLite syncs inside COMMIT). */
  readonly syncs: number;
}

export interface GroupCommitOptions {
  /**
   * `background` (the default where it applies): for a file database in WAL mode with `synchronous=FULL`,
   * the committer switches the connection to `NORMAL` and fsyncs the WAL itself on the thread pool, settling
   * each unit only after the sync that covers its COMMIT. `inline`: SQLite syncs inside COMMIT, as configured.
   */
  readonly walSync?: 'background' | 'inline';
}

/**
 * Group commit: units of work submitted in the same turn of the event loop run in one SQLite transaction,
 * so N concurrent requests cost one fsync instead of N. Each unit runs inside its own savepoint: a unit that
 * throws is rolled back alone and rejects alone; the others still commit. `submit` promises resolve only
 * after the commit is durable (the WAL was synced, with synchronous=FULL); see `submitUnsynced` for the
 * writes that may settle at COMMIT, and `durableRowId` for readers that must see only what is durable.
 *
 * The sync runs off the event loop (see {@link GroupCommitOptions.walSync}): while one batch's fdatasync is
 * in flight the main thread parses the next requests and commits the next batch, whose units wait for the
 * following sync. Durability is unchanged: a WAL sync covers every frame written before it, and recovery
 * only replays a prefix of the WAL, so a later commit can never survive without an earlier one.
 *
 * Units must be synchronous: an `await` inside one would let another transaction interleave.
 */
export class GroupCommitter {
  private queue: Pending[] = [];
  private scheduled = false;
  /** Units are waiting for the WAL sync in flight to return before they commit. */
  private deferred = false;
  private commits = 0;
  private units = 0;
  private readonly stmt;
  private readonly wal: WalSyncer | undefined;
  private onCommit: ((ms: number, units: number) => void) | undefined;
  /** The running unit's `whenDurable` callbacks (set only while a unit's work runs). */
  private unitCallbacks: (() => void)[] | undefined;
  /** SQLite's `sqlite_sequence` (the last id of each AUTOINCREMENT table) as of the last COMMIT... */
  private committedIds: ReadonlyMap<string, number>;
  /** ...and as of the last commit known durable. */
  private durableIds: ReadonlyMap<string, number>;
  private sequenceStmt: Statement | undefined;
  private sequenceProbe: Statement | undefined;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly maxUnitsPerCommit = 2000,
    options: GroupCommitOptions = {},
  ) {
    // Prepared once: `exec` would re-parse these on every unit.
    this.stmt = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      savepoint: db.prepare('SAVEPOINT unit'),
      release: db.prepare('RELEASE unit'),
      rollbackTo: db.prepare('ROLLBACK TO unit'),
    };
    this.committedIds = this.readSequences();
    this.durableIds = this.committedIds;
    if ((options.walSync ?? 'background') === 'background' && syncsEveryWalCommit(db)) {
      db.pragma('synchronous = NORMAL');
      this.wal = new WalSyncer(`${db.name}-wal`, () => {
        if (this.deferred) this.commitQueued();
      });
      // What the database holds now counts as durable: make it so (a crashed process's last commits may
      // still be in the page cache only).
      this.wal.markUnsynced();
      this.wal.syncNow();
    }
  }

  /**
   * Called after each commit that was synced, with its duration in ms (BEGIN → synced) and its unit count
   * (a commit nobody waited for is not synced on its own, and not reported).
   */
  observe(listener: (ms: number, units: number) => void): void {
    this.onCommit = listener;
  }

  /**
   * Called from inside a unit's work: runs `callback` once that unit's COMMIT is durable, just before the
   * units waiting for that sync settle (work that may start once the data is durable starts ahead of the
   * answers to whoever waited for the commit). Dropped if the unit fails. A commit with such callbacks is
   * synced even when none of its units waits for the sync. Callbacks must not throw (see settleDurable).
   */
  whenDurable(callback: () => void): void {
    if (!this.unitCallbacks) throw new Error('whenDurable is for units of work, while they run');
    this.unitCallbacks.push(callback);
  }

  /**
   * The largest id of an AUTOINCREMENT table whose row is known durable. Reads that hand rows on to the
   * outside world (the bus's log and delivery queue) stay at or below it, so a target never gets an event
   * that a crash could still take back, even when the row is read while the sync covering it is in flight.
   */
  durableRowId(table: string): number {
    return this.durableIds.get(table) ?? 0;
  }

  /** Number of units waiting for the next commit. */
  get depth(): number {
    return this.queue.length;
  }

  stats(): GroupCommitStats {
    return { commits: this.commits, units: this.units, syncs: this.wal?.syncs ?? 0 };
  }

  /** Runs `work` in the next group transaction; resolves with its result once committed. */
  submit<T>(work: () => T): Promise<T> {
    return this.enqueue(work, 'durable');
  }

  /**
   * Like `submit`, but resolves at COMMIT, for writes whose loss only repeats work that tolerates it (a
   * delivery's completion: the delivery goes out again, at least once). A commit of such units alone starts
   * no sync, unless it handed out new AUTOINCREMENT ids (see `durableRowId`): the next sync covers it, or
   * `flush`. The WAL is replayed in order, so a later durable commit never survives without it.
   */
  submitUnsynced<T>(work: () => T): Promise<T> {
    return this.enqueue(work, 'unsynced');
  }

  private enqueue<T>(work: () => T, settles: Settles): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, settles, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled && !this.deferred) {
        this.scheduled = true;
        setImmediate(() => this.flushQueue());
      }
    });
  }

  /**
   * Commits everything queued now and, with a background WAL sync, syncs synchronously too: when it returns,
   * everything submitted so far is durable. Used by timers and at shutdown (before closing the database).
   */
  flush(): void {
    this.scheduled = false;
    this.commitQueued();
    this.wal?.syncNow();
  }

  private flushQueue(): void {
    this.scheduled = false;
    // While a sync is in flight, keep gathering: committing now would not make anything durable sooner
    // (the next sync waits for this one), it would only write the same hot pages to the WAL twice. The
    // gathered units commit as soon as the sync returns.
    if (this.wal?.busy) {
      this.deferred = true;
      return;
    }
    this.commitQueued();
  }

  private commitQueued(): void {
    this.deferred = false;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxUnitsPerCommit);
      this.commitBatch(batch);
    }
  }

  private commitBatch(batch: Pending[]): void {
    const started = performance.now();
    const results: Committed[] = [];
    const { stmt } = this;
    // A lone unit needs no savepoint: if it throws, rolling back the transaction rolls back just that unit.
    const alone = batch.length === 1;
    try {
      stmt.begin.run();
      for (const unit of batch) {
        if (!alone) stmt.savepoint.run();
        const onDurable: (() => void)[] = [];
        this.unitCallbacks = onDurable;
        try {
          const value = unit.work();
          if (!alone) stmt.release.run();
          results.push({ unit, ok: true, value, onDurable });
        } catch (err) {
          if (!alone) {
            stmt.rollbackTo.run();
            stmt.release.run();
          }
          results.push({ unit, ok: false, value: err, onDurable: [] });
        } finally {
          this.unitCallbacks = undefined;
        }
      }
      if (alone && !results[0]!.ok) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        settle(results);
        return;
      }
      stmt.commit.run();
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      for (const unit of batch) unit.reject(err);
      return;
    }
    this.commits += 1;
    this.units += batch.length;
    const onDurable = results.flatMap((r) => r.onDurable);
    const ids = this.readSequences();
    const newIds = differs(ids, this.committedIds);
    this.committedIds = ids;
    if (!this.wal) {
      // SQLite synced inside COMMIT (or there is no disk): durable now.
      this.onCommit?.(performance.now() - started, batch.length);
      this.durableIds = ids;
      settleDurable(onDurable, results);
      return;
    }
    const late = results.filter((r) => r.unit.settles === 'durable');
    settle(results.filter((r) => r.unit.settles !== 'durable'));
    if (late.length === 0 && onDurable.length === 0 && !newIds) {
      // Nothing waits for this commit to be durable, and no reader waits for its rows: no sync of its own
      // (the next one covers it).
      this.wal.markUnsynced();
      return;
    }
    this.wal.afterSync((err) => {
      if (err) {
        for (const r of late) r.unit.reject(err);
        // The rows stay committed: what waits for them to be durable waits for a sync that succeeds.
        this.retrySync(ids, onDurable);
        return;
      }
      this.onCommit?.(performance.now() - started, batch.length);
      this.advanceDurable(ids);
      settleDurable(onDurable, late);
    });
  }

  /** Syncs again after a failed sync, until one succeeds, then applies what waited for it. */
  private retrySync(ids: ReadonlyMap<string, number>, onDurable: readonly (() => void)[]): void {
    const timer = setTimeout(() => {
      this.wal?.afterSync((err) => {
        if (err) return this.retrySync(ids, onDurable);
        this.advanceDurable(ids);
        settleDurable(onDurable, []);
      });
    }, SYNC_RETRY_MS);
    timer.unref();
  }

  /** Durable ids only grow: a retried sync may succeed after a later commit's. */
  private advanceDurable(ids: ReadonlyMap<string, number>): void {
    let merged: Map<string, number> | undefined;
    for (const [table, id] of ids)
      if (id > (this.durableIds.get(table) ?? 0)) (merged ??= new Map(this.durableIds)).set(table, id);
    if (merged) this.durableIds = merged;
  }

  /** `sqlite_sequence` as it stands (empty until a table with an AUTOINCREMENT column exists). */
  private readSequences(): ReadonlyMap<string, number> {
    if (!this.sequenceStmt) {
      this.sequenceProbe ??= this.db.prepare(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'",
      );
      if (!this.sequenceProbe.get()) return EMPTY_SEQUENCES;
      this.sequenceStmt = this.db.prepare('SELECT name, seq FROM sqlite_sequence');
    }
    const rows = this.sequenceStmt.all() as { name: string; seq: number }[];
    return new Map(rows.map((r) => [r.name, r.seq]));
  }
}

/**
 * Repeats a bounded DELETE (`deleteChunk` removes at most `chunk` rows and returns how many it removed) until
 * one removes fewer, each chunk a unit of its own: a large retention sweep then neither holds the event loop
 * in one long transaction nor keeps its whole size in one savepoint's statement journal (held in memory,
 * see openSqlite's temp_store). Stops between chunks once `signal` aborts (shutdown). Returns the total.
 */
export async function deleteInChunks(
  committer: GroupCommitter,
  deleteChunk: () => number,
  chunk: number,
  signal?: AbortSignal,
): Promise<number> {
  let total = 0;
  while (!signal?.aborted) {
    const n = await committer.submit(deleteChunk);
    total += n;
    if (n < chunk) break;
  }
  return total;
}

/**
 * Runs the durable callbacks first, then settles the units. A callback that throws (a bug: they must not)
 * still leaves every unit, and every other commit of the same sync, settled; its error is thrown on the event
 * loop afterwards, where, like any other bug's, it stops the process unless something handles it.
 */
function settleDurable(onDurable: readonly (() => void)[], results: readonly Committed[]): void {
  for (const callback of onDurable) {
    try {
      callback();
    } catch (err) {
      queueMicrotask(() => {
        throw err;
      });
    }
  }
  settle(results);
}

function differs(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  if (a.size !== b.size) return true;
  for (const [key, value] of a) if (b.get(key) !== value) return true;
  return false;
}

function settle(results: readonly Committed[]): void {
  for (const r of results) {
    if (r.ok) r.unit.resolve(r.value);
    else r.unit.reject(r.value);
  }
}

/** True when SQLite would fsync the WAL inside every COMMIT (file database, WAL mode, synchronous=FULL). */
function syncsEveryWalCommit(db: SqliteDatabase): boolean {
  if (db.memory) return false;
  const mode = String(db.pragma('journal_mode', { simple: true })).toLowerCase();
  return mode === 'wal' && Number(db.pragma('synchronous', { simple: true })) === 2;
}

type SyncCallback = (err: Error | null) => void;

/**
 * Syncs the WAL file on the thread pool, one fdatasync at a time: callbacks registered while one is in
 * flight wait for the next (the running sync may not cover frames written after it started).
 */
class WalSyncer {
  private fd = -1;
  private waiting: SyncCallback[] = [];
  private running: SyncCallback[] | undefined;
  private closeWhenIdle = false;
  /** A commit was left for a later sync, and no sync has started since. */
  private unsynced = false;
  /** Syncs started (background and synchronous). */
  syncs = 0;

  constructor(
    private readonly path: string,
    /** Called when a sync returns, before the next one starts: commits made now join that next sync. */
    private readonly onIdle: () => void,
  ) {}

  /** Whether a sync is in flight. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Calls `done` once every frame written to the WAL so far is on disk. */
  afterSync(done: SyncCallback): void {
    this.waiting.push(done);
    if (!this.running) this.start();
  }

  /** Records a commit that no sync was started for: the next sync covers it, `syncNow` included. */
  markUnsynced(): void {
    this.unsynced = true;
  }

  /** Syncs now, on this thread, and settles everything waiting (shutdown): everything committed is durable. */
  syncNow(): void {
    const callbacks = [...(this.running ?? []), ...this.waiting];
    this.waiting = [];
    if (this.running) this.running.length = 0; // the background sync's completion must not settle them twice
    if (callbacks.length === 0 && !this.unsynced && this.fd < 0) return;
    let error: Error | null = null;
    try {
      if (callbacks.length > 0 || this.unsynced) {
        this.unsynced = false;
        this.syncs += 1;
        fdatasyncSync(this.open());
      }
    } catch (err) {
      error = err instanceof Error ? err : new Error(String(err));
    }
    // The file is reopened on the next commit; closing here lets the database be closed and deleted.
    if (this.running) this.closeWhenIdle = true;
    else this.close();
    for (const cb of callbacks) cb(error);
  }

  private start(): void {
    const batch = this.waiting;
    this.waiting = [];
    this.running = batch;
    let fd: number;
    try {
      fd = this.open();
    } catch (err) {
      this.running = undefined;
      for (const cb of batch) cb(err instanceof Error ? err : new Error(String(err)));
      this.onIdle();
      return;
    }
    this.unsynced = false; // this sync covers every commit made before it
    this.syncs += 1;
    fdatasync(fd, (err) => {
      this.running = undefined;
      if (err) this.discard(); // the next sync opens the WAL afresh
      for (const cb of batch) cb(err);
      this.onIdle();
      if (this.waiting.length > 0 && !this.running) this.start();
      else if (!this.running && this.closeWhenIdle) this.close();
    });
  }

  private open(): number {
    // The WAL file exists from the first write transaction until the last connection closes, and SQLite
    // reuses it (rewinding, never replacing it) while the database is open, so one descriptor stays valid.
    if (this.fd < 0) this.fd = openSync(this.path, 'r');
    return this.fd;
  }

  private close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.closeWhenIdle = false;
  }

  /** Forgets a descriptor that failed (it may be closed already). */
  private discard(): void {
    try {
      this.close();
    } catch {
      this.fd = -1;
    }
  }
}
