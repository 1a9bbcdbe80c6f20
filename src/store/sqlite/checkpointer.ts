import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../telemetry/logger.ts';
import type { SqliteDatabase } from './database.ts';

/** What one `PRAGMA wal_checkpoint(PASSIVE)` reported. */
export interface CheckpointResult {
  /** WAL frames in the log, and how many of them are now in the database file. */
  readonly log: number;
  readonly checkpointed: number;
}

export interface BackgroundCheckpointerOptions {
  readonly logger: Logger;
  /** How often to checkpoint (default 1 s). */
  readonly intervalMs?: number;
  readonly onCheckpoint?: (result: CheckpointResult, ms: number) => void;
}

// Plain CommonJS, evaluated in the worker: it needs no TypeScript loader. It opens its own connection to
// the same file and answers each message with one passive checkpoint.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 1000');
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true, log: row.log, checkpointed: row.checkpointed });
  } catch (err) {
    parentPort.postMessage({ ok: false, error: String((err && err.message) || err) });
  }
});
`;

const FALLBACK_AUTOCHECKPOINT_PAGES = 20_000;
/** A log this long (4 KiB pages, ≈ 16 MB) is worth rewinding... */
const REWIND_ABOVE_FRAMES = 4_096;
/** ...once the worker has left at most this many frames for the main connection to copy. */
const FINISH_AT_MOST_FRAMES = 512;

/**
 * Checkpoints the WAL from a worker thread instead of the committing one.
 *
 * SQLite's automatic checkpoint runs inside the commit that crosses its threshold: it copies every page the
 * WAL holds back into the database file and fsyncs it, on the event loop, stalling every webhook and
 * delivery for tens to hundreds of milliseconds — the largest source of tail latency. Here the main
 * connection never checkpoints; a second connection in a worker runs a passive checkpoint (it never blocks
 * writers) once a second.
 *
 * Under steady writes a passive checkpoint never quite completes (frames keep arriving while it copies),
 * and only a complete one lets the next commit rewind the WAL. So once the worker has copied all but the
 * last few frames of a large log, the main connection finishes the job itself between commits: copying a
 * handful of pages, cheap beside the whole log. If the worker dies, the main connection goes back to
 * automatic checkpoints, so the WAL never grows without bound.
 */
export class BackgroundCheckpointer {
  private readonly worker: Worker;
  private readonly timer: NodeJS.Timeout;
  private inFlight: number | undefined;
  private failed = false;
  private stopping = false;

  constructor(
    private readonly db: SqliteDatabase,
    path: string,
    private readonly options: BackgroundCheckpointerOptions,
  ) {
    db.pragma('wal_autocheckpoint = 0');
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, path } });
    this.worker.unref();
    this.worker.on('message', (reply: { ok: boolean; log?: number; checkpointed?: number; error?: string }) =>
      this.settled(reply),
    );
    this.worker.on('error', (err) => this.fallBack(err.message));
    this.worker.on('exit', (code) => {
      if (!this.stopping) this.fallBack(`checkpoint worker exited with code ${code}`);
    });
    this.timer = setInterval(() => this.checkpoint(), options.intervalMs ?? 1000);
    this.timer.unref();
  }

  /** Stops the worker; the connection's own close checkpoints whatever is left. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearInterval(this.timer);
    if (this.failed) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage('close');
    await exited;
  }

  private checkpoint(): void {
    if (this.inFlight !== undefined || this.failed) return;
    this.inFlight = performance.now();
    this.worker.postMessage('checkpoint');
  }

  private settled(reply: { ok: boolean; log?: number; checkpointed?: number; error?: string }): void {
    const ms = performance.now() - (this.inFlight ?? performance.now());
    this.inFlight = undefined;
    if (!reply.ok) {
      // Busy or locked now; the next tick tries again.
      this.options.logger.debug({ err: reply.error }, 'background WAL checkpoint did not run');
      return;
    }
    const result = { log: reply.log ?? 0, checkpointed: reply.checkpointed ?? 0 };
    this.options.onCheckpoint?.(result, ms);
    if (result.log > REWIND_ABOVE_FRAMES && result.log - result.checkpointed <= FINISH_AT_MOST_FRAMES) {
      // Between commits (the committer never leaves a transaction open across turns of the loop).
      if (this.db.open && !this.db.inTransaction) this.db.pragma('wal_checkpoint(PASSIVE)');
    }
  }

  private fallBack(reason: string): void {
    if (this.failed || this.stopping) return;
    this.failed = true;
    clearInterval(this.timer);
    this.options.logger.warn(
      { reason },
      'background WAL checkpoints stopped; the database checkpoints on commit again',
    );
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
  }
}
