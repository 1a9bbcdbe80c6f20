import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SqliteDeliveryStore, busMigrations } from '../../src/store/sqlite/bus.ts';
import { openSqlite, runMigrations } from '../../src/store/sqlite/database.ts';
import { SqliteEventStore, eventMigrations } from '../../src/store/sqlite/events.ts';
import { GroupCommitter } from '../../src/store/sqlite/group-commit.ts';
import { tempDir } from '../support/app.ts';
import { tickEvent } from '../support/events.ts';
import { tempDatabase } from '../support/sqlite.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function setup() {
  const { db, committer, close } = tempDatabase(
    [...eventMigrations, ...busMigrations],
    'rebound-deliveries-',
  );
  cleanups.push(close);
  return { store: new SqliteDeliveryStore(db, committer, new SqliteEventStore(db, committer)), committer };
}

const delivery = (n: number, target = 'r/t') => ({
  eventId: `evt-${n}`,
  target,
  rule: 'r',
  orderingKey: `evt-${n}`,
  createdAt: 0,
  replay: null,
  correlationId: `c-${n}`,
});

describe('delivery store', () => {
  it('hands workers only deliveries known durable, even while the sync that covers them is in flight', async () => {
    const dir = tempDir('rebound-durable-reads-');
    const db = openSqlite({ path: join(dir.path, 'rebound.db') }); // FULL: the committer syncs the WAL itself
    runMigrations(db, [...eventMigrations, ...busMigrations]);
    const committer = new GroupCommitter(db);
    const events = new SqliteEventStore(db, committer);
    const store = new SqliteDeliveryStore(db, committer, events);
    cleanups.push(() => {
      committer.flush();
      db.close();
      dir.remove();
    });
    // Settles at COMMIT; the sync its new rows need has only started when the test goes on.
    await committer.submitUnsynced(() => {
      events.appendWithin([tickEvent(1)]);
      store.enqueueWithin([delivery(1)]);
    });
    expect(committer.stats().syncs).toBe(2); // at start, and the one in flight
    expect(await store.pending('r/t', 10)).toEqual([]);
    await vi.waitFor(async () => expect(await store.pending('r/t', 10)).toHaveLength(1));
  });

  it('removes the deliveries finished before one commit in one unit, and later ones in the next', async () => {
    const { store, committer } = setup();
    await store.enqueue([delivery(1), delivery(2), delivery(3, 'r/u'), delivery(4)]);
    const [a, b, d] = await store.pending('r/t', 10);
    const [c] = await store.pending('r/u', 10);
    const before = committer.stats().units;

    // Lanes of two targets finishing in the same turn share the unit.
    await Promise.all([store.complete([a!.id]), store.complete([b!.id]), store.complete([c!.id])]);
    expect(committer.stats().units - before).toBe(1);
    expect((await store.pending('r/t', 10)).map((p) => p.eventId)).toEqual(['evt-4']);
    expect(await store.pending('r/u', 10)).toEqual([]);

    // The unit is gone once committed: a later finish gets a unit of its own.
    await store.complete([d!.id]);
    expect(committer.stats().units - before).toBe(2);
    expect(await store.pending('r/t', 10)).toEqual([]);
  });
});
