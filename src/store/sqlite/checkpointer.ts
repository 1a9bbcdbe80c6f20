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
    // A pass copies the frames in the log when it started. Go again while passes complete and the
    // writers added many frames meanwhile, so what is left for the main connection stays small.
    let row;
    let before = -1;
    let added = null; // unknown after one pass
    for (let pass = 0; pass < 5; pass++) {
      [row] = db.pragma('wal_checkpoint(PASSIVE)');
      added = before < 0 ? null : row.log - before;
      before = row.log;
      if (row.busy || row.checkpointed < row.log) break;
      if (added !== null && added <= workerData.finishAtMost) break;
    }
    parentPort.postMessage({ ok: true, log: row.log, checkpointed: row.checkpointed, added });
  } catch (err) {
    parentPort.postMessage({ ok: false, error: String((err && err.message) || err) });
  }
});
`;

interface WorkerReply {
  readonly ok: boolean;
  readonly log?: number;
  readonly checkpointed?: number;
  /** Frames the writers added during the last pass (null when only one pass ran). */
  readonly added?: number | null;
  readonly error?: string;
}

/** A log this long (4 KiB pages, ≈ 16 MB) is worth rewinding... */
const REWIND_ABOVE_FRAMES = 4_096;
/** ...once the worker has left at most this many frames for the main connection to copy. */
const FINISH_AT_MOST_FRAMES = 512;
const MAX_FAILURES_IN_A_ROW = 30;

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
  private failuresInARow = 0;
  private stopping = false;
  /** The connection's own automatic checkpoint threshold, restored if the worker gives out. */
  private readonly autocheckpointPages: number;

  constructor(
    private readonly db: SqliteDatabase,
    path: string,
    private readonly options: BackgroundCheckpointerOptions,
  ) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver, path, finishAtMost: FINISH_AT_MOST_FRAMES },
    });
    this.autocheckpointPages = Number(db.pragma('wal_autocheckpoint', { simple: true }));
    db.pragma('wal_autocheckpoint = 0'); // only once the worker exists
    this.worker.on('message', (reply: WorkerReply) => this.settled(reply));
    this.worker.on('error', (err) => this.fallBack(err.message));
    this.worker.on('exit', (code) => {
      if (!this.stopping) this.fallBack(`checkpoint worker exited with code ${code}`);
    });
    // After the listeners: a 'message' listener refs the worker again, and a process whose start failed
    // would then never exit.
    this.worker.unref();
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
    // Held until it exits: otherwise, in a process with nothing else left to do, Node would exit (code 13)
    // with this promise unsettled instead of waiting for the worker to close its connection.
    this.worker.ref();
    this.worker.postMessage('close');
    await exited;
  }

  private checkpoint(): void {
    if (this.inFlight !== undefined || this.failed) return;
    this.inFlight = performance.now();
    this.worker.postMessage('checkpoint');
  }

  private settled(reply: WorkerReply): void {
    const ms = performance.now() - (this.inFlight ?? performance.now());
    this.inFlight = undefined;
    if (!reply.ok) {
      // Busy or locked now, the next tick tries again; failing every time (a read-only file, an I/O
      // error), the WAL would grow without bound.
      this.options.logger.debug({ err: reply.error }, 'background WAL checkpoint did not run');
      this.failuresInARow += 1;
      if (this.failuresInARow >= MAX_FAILURES_IN_A_ROW)
        this.fallBack(reply.error ?? 'checkpoints keep failing');
      return;
    }
    this.failuresInARow = 0;
    const result = { log: reply.log ?? 0, checkpointed: reply.checkpointed ?? 0 };
    this.options.onCheckpoint?.(result, ms);
    // The worker's last pass completed and little was written during it: little is left to copy here.
    const complete = result.checkpointed >= result.log;
    if (result.log > REWIND_ABOVE_FRAMES && complete && (reply.added ?? Infinity) <= FINISH_AT_MOST_FRAMES) {
      // Between commits (the committer never leaves a transaction open across turns of the loop).
      try {
        if (this.db.open && !this.db.inTransaction) this.db.pragma('wal_checkpoint(PASSIVE)');
      } catch (err) {
        this.options.logger.warn({ err: (err as Error).message }, 'WAL checkpoint failed; will retry');
      }
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
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${this.autocheckpointPages}`);
  }
}
