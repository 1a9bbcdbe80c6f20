// `npm run bench -- fsync [dir]`: what the disk under the data directory costs per durable commit, so the
// ingest and bus numbers can be read against it (a tiny fio: 4 KiB write + fdatasync, like a WAL commit).
import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, line } from './_stats.ts';

const SYNCS = 500;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Appends `bytes` and syncs, `SYNCS` times; returns each sync's latency in ms, sorted. */
function probe(dir: string, bytes: number): number[] {
  const file = join(dir, 'probe');
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(bytes, 0x5a);
  const times: number[] = [];
  try {
    for (let i = 0; i < SYNCS; i++) {
      writeSync(fd, block, 0, block.length, i * bytes);
      const started = performance.now();
      fdatasyncSync(fd);
      times.push(performance.now() - started);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  return times.sort((a, b) => a - b);
}

export async function run(args: string[]): Promise<void> {
  const dir = mkdtempSync(join(args[0] ?? tmpdir(), 'rebound-bench-fsync-'));
  try {
    process.stdout.write(`fsync benchmark: ${SYNCS} × (append + fdatasync) in ${dir}\n`);
    for (const bytes of [4096, 256 * 1024]) {
      const times = probe(dir, bytes);
      const label = bytes >= 1024 * 1024 ? `${bytes / 1024 / 1024} MiB` : `${bytes / 1024} KiB`;
      line(`fdatasync after a ${label} append p50`, `${fmt(percentile(times, 50), 3)} ms`);
      line(`fdatasync after a ${label} append p99`, `${fmt(percentile(times, 99), 3)} ms`);
      line(
        `  syncs/s one after another (${label})`,
        fmt(1000 / (times.reduce((a, b) => a + b, 0) / times.length)),
        'the ceiling for commits that each wait for their own sync',
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
