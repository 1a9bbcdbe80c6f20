import { closeSync, fdatasync, fdatasyncSync, openSync } from 'node:fs';
import type { SqliteDatabase } from './database.ts';

interface Pending {
  readonly work: () => unknown;
  /** Settle at COMMIT rather than after the WAL sync (see `submitVisible`). */
  readonly early: boolean;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
}

/** A committed unit waiting for the WAL sync that makes it durable. */
interface Committed {
  readonly unit: Pending;
  readonly ok: boolean;
  readonly value: unknown;
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
 * throws is rolled back alone and rejects alone; the others still commit. Promises resolve only after the
 * commit is durable (the WAL was synced, with synchronous=FULL).
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
  private readonly durableListeners: (() => void)[] = [];

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
    if ((options.walSync ?? 'background') === 'background' && syncsEveryWalCommit(db)) {
      db.pragma('synchronous = NORMAL');
      this.wal = new WalSyncer(`${db.name}-wal`, () => {
        if (this.deferred) this.commitQueued();
      });
    }
  }

  /** Called after each commit is durable with its duration in ms (BEGIN → synced) and its unit count. */
  observe(listener: (ms: number, units: number) => void): void {
    this.onCommit = listener;
  }

  /**
   * Calls `listener` each time a commit becomes durable, just before the units waiting for it settle: work
   * that may start once its data is durable starts ahead of the answers to whoever waited for the commit.
   * Listeners must not throw (the units still settle, and the error escapes to the event loop).
   */
  afterDurable(listener: () => void): void {
    this.durableListeners.push(listener);
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
    return this.enqueue(work, false);
  }

  /**
   * Like `submit`, but resolves as soon as the transaction is committed (visible to readers), without
   * waiting for the WAL sync. Only for writes a crash may lose because they are derived from durable state
   * and re-derived after a restart (the bus router's deliveries and checkpoint), or whose loss only repeats
   * work that tolerates repeating (a delivery's completion: the event goes out again): it takes an fsync
   * off the latency of whatever waits for them. A commit of such units alone is not synced at all; the next
   * durable commit's sync covers it (the WAL is replayed in order).
   */
  submitVisible<T>(work: () => T): Promise<T> {
    return this.enqueue(work, true);
  }

  private enqueue<T>(work: () => T, early: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, early, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled && (!this.deferred || early)) {
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
    // gathered units commit as soon as the sync returns. Units that settle at COMMIT do not wait.
    if (this.wal?.busy && !this.queue.some((u) => u.early)) {
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

  /** Tells the durable listeners; the caller settles its units after, whatever a listener throws. */
  private durable(): void {
    for (const listener of this.durableListeners) listener();
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
        try {
          const value = unit.work();
          if (!alone) stmt.release.run();
          results.push({ unit, ok: true, value });
        } catch (err) {
          if (!alone) {
            stmt.rollbackTo.run();
            stmt.release.run();
          }
          results.push({ unit, ok: false, value: err });
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
    if (!this.wal) {
      this.onCommit?.(performance.now() - started, batch.length);
      try {
        this.durable();
      } finally {
        settle(results);
      }
      return;
    }
    const early = results.filter((r) => r.unit.early);
    const late = early.length > 0 ? results.filter((r) => !r.unit.early) : results;
    settle(early);
    if (late.length === 0) {
      // Nobody waits for this commit to be durable: no sync of its own (the next durable one covers it).
      this.onCommit?.(performance.now() - started, batch.length);
      return;
    }
    this.wal.afterSync((err) => {
      if (err) {
        for (const r of late) r.unit.reject(err);
        return;
      }
      this.onCommit?.(performance.now() - started, batch.length);
      try {
        this.durable();
      } finally {
        settle(late);
      }
    });
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

  /** Syncs now, on this thread, and settles everything waiting (shutdown). */
  syncNow(): void {
    const callbacks = [...(this.running ?? []), ...this.waiting];
    this.waiting = [];
    if (this.running) this.running.length = 0; // the background sync's completion must not settle them twice
    if (callbacks.length === 0 && this.fd < 0) return;
    let error: Error | null = null;
    try {
      if (callbacks.length > 0) {
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
    this.syncs += 1;
    fdatasync(fd, (err) => {
      this.running = undefined;
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
}
