import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteDeliveryStore, busMigrations } from '../../src/store/sqlite/bus.ts';
import { openSqlite, runMigrations } from '../../src/store/sqlite/database.ts';
import { SqliteEventStore, eventMigrations } from '../../src/store/sqlite/events.ts';
import { GroupCommitter } from '../../src/store/sqlite/group-commit.ts';
import { tempDir } from '../support/app.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function setup() {
  const dir = tempDir('rebound-deliveries-');
  const db = openSqlite({ path: join(dir.path, 'rebound.db'), synchronous: 'NORMAL' });
  runMigrations(db, [...eventMigrations, ...busMigrations]);
  const committer = new GroupCommitter(db);
  const store = new SqliteDeliveryStore(db, committer, new SqliteEventStore(db, committer));
  cleanups.push(
    () => dir.remove(),
    () => void db.close(),
  );
  return { store, committer };
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
