import { afterEach, describe, expect, it } from 'vitest';
import { SqliteDeliveryStore, busMigrations } from '../../src/store/sqlite/bus.ts';
import { SqliteEventStore, eventMigrations } from '../../src/store/sqlite/events.ts';
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
