import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqlite, runMigrations } from '../../src/store/sqlite/database.ts';
import { EnvelopeCache } from '../../src/store/sqlite/envelope-cache.ts';
import { eventMigrations, SqliteEventStore } from '../../src/store/sqlite/events.ts';
import { GroupCommitter } from '../../src/store/sqlite/group-commit.ts';
import { tickEvent as event } from '../support/events.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function store(cache: EnvelopeCache) {
  const dir = mkdtempSync(join(tmpdir(), 'rebound-cache-'));
  const db = openSqlite({ path: join(dir, 'store.db') });
  runMigrations(db, eventMigrations);
  cleanups.push(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return new SqliteEventStore(db, new GroupCommitter(db), cache);
}

describe('EnvelopeCache', () => {
  const ids = (cache: EnvelopeCache, n: number) =>
    Array.from({ length: n }, (_, i) => i + 1).filter((i) => cache.get(event(i).envelope.id) !== undefined);

  it('forgets the oldest entries first, round and round its slots', () => {
    const cache = new EnvelopeCache(3);
    for (let i = 1; i <= 8; i++) cache.remember(event(i), 10);
    expect(cache.size).toBe(3);
    expect(ids(cache, 8)).toEqual([6, 7, 8]);
    // Remembering an entry it holds changes neither the entry nor the order of eviction.
    const kept = cache.get(event(6).envelope.id);
    cache.remember(event(6), 10);
    expect(cache.get(event(6).envelope.id)).toBe(kept);
    cache.remember(event(9), 10);
    expect(ids(cache, 9)).toEqual([7, 8, 9]);
  });

  it('parses an entry remembered by its JSON once, on the first read', () => {
    const cache = new EnvelopeCache(4);
    let parses = 0;
    cache.rememberUnparsed('a', 10, () => (parses++, event(1)));
    expect(parses).toBe(0);
    const first = cache.get('a');
    expect(cache.get('a')).toBe(first);
    expect(parses).toBe(1);
  });

  it('evicts the oldest entries to stay within its bytes, but keeps the newest however large', () => {
    const cache = new EnvelopeCache(10, 100);
    for (let i = 1; i <= 4; i++) cache.remember(event(i), 30);
    expect(ids(cache, 4)).toEqual([2, 3, 4]);
    cache.remember(event(5), 500);
    expect(ids(cache, 5)).toEqual([5]);
  });

  it('starts afresh after clear()', () => {
    const cache = new EnvelopeCache(2);
    for (let i = 1; i <= 3; i++) cache.remember(event(i), 10);
    const generation = cache.generation;
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.generation).not.toBe(generation);
    for (let i = 4; i <= 6; i++) cache.remember(event(i), 10);
    expect(ids(cache, 6)).toEqual([5, 6]);
  });
});

describe('EnvelopeCache with the event log', () => {
  it('reads a batch that straddles the oldest cached entry (a miss evicting a hit of the same batch)', async () => {
    const cache = new EnvelopeCache(4);
    const log = store(cache);
    await log.append(Array.from({ length: 12 }, (_, i) => event(i + 1)));
    expect((await log.readAfter(4, 4)).map((e) => e.seq)).toEqual([5, 6, 7, 8]); // cached: 5–8
    const batch = await log.readAfter(2, 8); // 3, 4 miss and evict 5, 6 while they are being read
    expect(batch.map((e) => e.event.envelope.detail['n'])).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('serves what the database holds, never the writer’s object', async () => {
    const log = store(new EnvelopeCache());
    await log.append([event(1)]);
    const [first] = await log.readAfter(0, 10);
    expect(first!.event.envelope.detail['big']).toBeNull(); // JSON has no Infinity
    expect((await log.readAfter(0, 10))[0]!.event).toBe(first!.event); // parsed once, then shared
  });

  it('remembers what it appends, parsed only once something reads it from the log', async () => {
    const cache = new EnvelopeCache();
    const log = store(cache);
    await log.append([event(1), event(2)]);
    expect(cache.size).toBe(2); // the router reading the log finds both in memory
    const read = await log.readAfter(0, 10);
    expect(read.map((e) => e.event.envelope.detail['big'])).toEqual([null, null]); // as stored, not as written
    expect((await log.readAfter(0, 10))[1]!.event).toBe(read[1]!.event);
  });

  it('is bounded by bytes as well as entries, and forgets everything when retention deletes events', async () => {
    const cache = new EnvelopeCache(1000, 1_000);
    const log = store(cache);
    await log.append(Array.from({ length: 10 }, (_, i) => event(i + 1, '2026-11-01T00:00:00.000Z')));
    await log.readAfter(0, 10);
    expect(cache.size).toBeLessThan(10);
    expect(cache.size).toBeGreaterThan(0);
    expect(await log.deleteEventsBefore('2026-11-02T00:00:00.000Z')).toBe(10);
    expect(cache.size).toBe(0);
  });
});

describe('event retention', () => {
  it('deletes a large backlog in bounded chunks, clears the cache, and keeps newer events', async () => {
    const cache = new EnvelopeCache();
    const log = store(cache);
    const old = Array.from({ length: 10_001 }, (_, i) => event(i + 1, '2026-10-01T00:00:00.000Z'));
    for (let i = 0; i < old.length; i += 2000) await log.append(old.slice(i, i + 2000));
    await log.append([event(20_000), event(20_001)]);
    await log.readAfter(0, 100);
    expect(cache.size).toBeGreaterThan(0);
    // Shutdown: a sweep stops between chunks.
    const stopped = new AbortController();
    stopped.abort();
    expect(await log.deleteEventsBefore('2026-11-01T00:00:00.000Z', stopped.signal)).toBe(0);
    // 5,000 + 5,000 + 1 rows, each chunk its own transaction.
    expect(await log.deleteEventsBefore('2026-11-01T00:00:00.000Z')).toBe(10_001);
    expect(cache.size).toBe(0);
    expect((await log.readAfter(0, 10)).map((e) => e.event.envelope.detail['n'])).toEqual([20_000, 20_001]);
    expect(await log.deleteEventsBefore('2026-11-01T00:00:00.000Z')).toBe(0);
  });

  it('counts from when an event was received, not from the time its producer gave it', async () => {
    const log = store(new EnvelopeCache());
    // Received today with a producer time years back; received long ago with a recent-looking time.
    await log.append([event(1, '2019-01-01T00:00:00.000Z', '2026-11-26T04:00:00.000Z')]);
    await log.append([event(2, '2026-11-25T00:00:00.000Z', '2026-08-01T00:00:00.000Z')]);
    expect(await log.deleteEventsBefore('2026-11-01T00:00:00.000Z')).toBe(1);
    expect((await log.readAfter(0, 10)).map((e) => e.event.envelope.detail['n'])).toEqual([1]);
  });
});
