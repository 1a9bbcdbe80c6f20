import { randomFillSync } from 'node:crypto';

/**
 * Time-ordered event ids: UUID version 7 (RFC 9562 §5.7). Events are stored under a UNIQUE index on their id;
 * random (v4) ids scatter every insert across that index, so each commit dirties (and the WAL rewrites) one page
 * per event, which halved ingest throughput. v7 ids grow with time, so inserts append to the index's right edge.
 *
 * Within one millisecond the 12-bit `rand_a` field is a counter (RFC 9562 §6.2, method 1) so ids stay strictly
 * increasing from one process; the remaining 62 bits are random, so ids from different processes never collide.
 */
const POOL_BYTES = 8 * 1024;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let poolOffset = POOL_BYTES;
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

let lastMs = -1;
let sequence = 0;

function randomBytes8(): number {
  if (poolOffset + 8 > POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const at = poolOffset;
  poolOffset += 8;
  return at;
}

/** A new UUIDv7 string, e.g. `019ac1f2-3b4c-7000-8a1b-2c3d4e5f6a7b`. */
export function timeOrderedUuid(nowMs: number = Date.now()): string {
  let ms = nowMs;
  if (ms > lastMs) {
    lastMs = ms;
    sequence = 0;
  } else {
    // Same millisecond (or the clock stepped back): keep counting from the last id's time.
    ms = lastMs;
    sequence += 1;
    if (sequence > 0xfff) {
      lastMs += 1;
      ms = lastMs;
      sequence = 0;
    }
  }
  const at = randomBytes8();
  const high = Math.floor(ms / 0x10000); // top 32 of the 48 timestamp bits
  const low = ms % 0x10000;
  const r = pool;
  return (
    high.toString(16).padStart(8, '0') +
    '-' +
    low.toString(16).padStart(4, '0') +
    '-' +
    (0x7000 | sequence).toString(16) +
    '-' +
    HEX[0x80 | (r[at]! & 0x3f)]! +
    HEX[r[at + 1]!]! +
    '-' +
    HEX[r[at + 2]!]! +
    HEX[r[at + 3]!]! +
    HEX[r[at + 4]!]! +
    HEX[r[at + 5]!]! +
    HEX[r[at + 6]!]! +
    HEX[r[at + 7]!]!
  );
}
