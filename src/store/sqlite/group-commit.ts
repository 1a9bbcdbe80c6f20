import type { SqliteDatabase } from './database.ts';

interface Pending {
  readonly work: () => unknown;
  readonly resolve: (value: unknown) => void;
  readonly reject: (reason: unknown) => void;
}

export interface GroupCommitStats {
  readonly commits: number;
  readonly units: number;
}

/**
 * Group commit: units of work submitted in the same turn of the event loop run in one SQLite transaction,
 * so N concurrent requests cost one fsync instead of N. Each unit runs inside its own savepoint: a unit that
 * throws is rolled back alone and rejects alone; the others still commit. Promises resolve only after the
 * COMMIT returned, i.e. after the WAL was synced (with synchronous=FULL).
 *
 * Units must be synchronous: an `await` inside one would let another transaction interleave.
 */
export class GroupCommitter {
  private queue: Pending[] = [];
  private scheduled = false;
  private commits = 0;
  private units = 0;
  private readonly savepoint: () => void;
  private readonly release: () => void;
  private readonly rollbackTo: () => void;
  private onCommit: ((ms: number, units: number) => void) | undefined;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly maxUnitsPerCommit = 2000,
  ) {
    this.savepoint = () => db.exec('SAVEPOINT unit');
    this.release = () => db.exec('RELEASE unit');
    this.rollbackTo = () => db.exec('ROLLBACK TO unit; RELEASE unit');
  }

  /** Called after each commit with its duration in ms and the number of units it carried. */
  observe(listener: (ms: number, units: number) => void): void {
    this.onCommit = listener;
  }

  /** Number of units waiting for the next commit. */
  get depth(): number {
    return this.queue.length;
  }

  stats(): GroupCommitStats {
    return { commits: this.commits, units: this.units };
  }

  /** Runs `work` in the next group transaction; resolves with its result once committed. */
  submit<T>(work: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits everything queued now, synchronously. Used by `flush()` timers and at shutdown. */
  flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxUnitsPerCommit);
      this.commitBatch(batch);
    }
  }

  private commitBatch(batch: Pending[]): void {
    const started = performance.now();
    const results: { ok: boolean; value: unknown }[] = [];
    try {
      this.db.exec('BEGIN IMMEDIATE');
      for (const unit of batch) {
        this.savepoint();
        try {
          const value = unit.work();
          this.release();
          results.push({ ok: true, value });
        } catch (err) {
          this.rollbackTo();
          results.push({ ok: false, value: err });
        }
      }
      this.db.exec('COMMIT');
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      for (const unit of batch) unit.reject(err);
      return;
    }
    this.commits += 1;
    this.units += batch.length;
    this.onCommit?.(performance.now() - started, batch.length);
    batch.forEach((unit, i) => {
      const result = results[i]!;
      if (result.ok) unit.resolve(result.value);
      else unit.reject(result.value);
    });
  }
}
