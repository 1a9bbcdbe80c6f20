import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LoggedEvent } from '../../src/events/log.ts';
import { openSqlite, runMigrations, type SqliteDatabase } from '../../src/store/sqlite/database.ts';
import { eventMigrations, SqliteEventStore } from '../../src/store/sqlite/events.ts';
import { GroupCommitter } from '../../src/store/sqlite/group-commit.ts';
import { tickEvent as event } from '../support/events.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** An event log whose inline consumer writes one row per event it is handed, in the same transaction. */
function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'rebound-log-'));
  const db: SqliteDatabase = openSqlite({ path: join(dir, 'store.db') });
  runMigrations(db, eventMigrations);
  db.exec('CREATE TABLE handled (seq INTEGER PRIMARY KEY, id TEXT NOT NULL)');
  cleanups.push(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const committer = new GroupCommitter(db);
  const log = new SqliteEventStore(db, committer);
  const insert = db.prepare('INSERT INTO handled (seq, id) VALUES (?, ?)');
  const handedOver: LoggedEvent[][] = [];
  const consumer = {
    name: 'router',
    handle: (events: readonly LoggedEvent[]) => {
      handedOver.push([...events]);
      for (const e of events) insert.run(e.seq, e.event.envelope.id);
    },
  };
  const handled = () =>
    (db.prepare('SELECT seq FROM handled ORDER BY seq').all() as { seq: number }[]).map((r) => r.seq);
  const handledIds = () =>
    (db.prepare('SELECT id FROM handled ORDER BY seq').all() as { id: string }[]).map((r) => r.id);
  return { db, committer, log, consumer, handedOver, handled, handledIds };
}

describe('event log hand-over to an inline consumer', () => {
  it('hands each append over in its own transaction once the consumer has everything before it', async () => {
    const { log, consumer, handedOver, handled } = setup();
    log.follow(consumer);
    await log.append([event(1), event(2)]);
    // A duplicate is not stored, so not handed over; its insert still used up a sequence number.
    await log.append([event(2), event(3)]);
    await log.append([event(4)]);
    expect(handedOver.map((batch) => batch.map((e) => e.event.envelope.detail['n']))).toEqual([
      [1, 2],
      [3],
      [4],
    ]);
    // As stored, like every reader sees it: Infinity was stored as null.
    expect(handedOver[0]![0]!.event.envelope.detail).toEqual({ n: 1, big: null });
    const seqs = handedOver.flat().map((e) => e.seq);
    expect(handled()).toEqual(seqs);
    expect(await log.getOffset('router')).toBe(seqs.at(-1));
    expect(await log.readAfter(0, 10)).toHaveLength(4);
    expect(await log.readAfter(seqs.at(-1)!, 10)).toEqual([]);
  });

  it('leaves appends in the log while the consumer is behind, and takes over once it has caught up', async () => {
    const { log, consumer, handedOver } = setup();
    await log.append([event(1), event(2)]); // before it follows: its offset is 0
    log.follow(consumer);
    await log.append([event(3)]);
    expect(handedOver).toEqual([]);
    expect(await log.getOffset('router')).toBe(0);
    // The consumer reads the backlog and commits its offset (as the bus router does), then is handed the next.
    expect((await log.readAfter(0, 10)).map((e) => e.seq)).toEqual([1, 2, 3]);
    await log.commitOffset('router', 3);
    await log.append([event(4)]);
    expect(handedOver.map((batch) => batch.map((e) => e.seq))).toEqual([[4]]);
    expect(await log.getOffset('router')).toBe(4);
  });

  it('rolls the hand-over back with the unit that stored the events', async () => {
    const { committer, log, consumer, handledIds } = setup();
    log.follow(consumer);
    await log.append([event(1)]);
    await expect(
      committer.submit(() => {
        log.appendWithin([event(2)]);
        throw new Error('the incident change failed after its events');
      }),
    ).rejects.toThrow(/incident change failed/);
    expect(handledIds()).toEqual([event(1).envelope.id]);
    expect(await log.getOffset('router')).toBe(1);
    expect(await log.getEvent(event(2).envelope.id)).toBeUndefined();
    // The next append is handed over as usual: nothing of the rolled-back one is left behind.
    await log.append([event(3)]);
    expect(handledIds()).toEqual([event(1).envelope.id, event(3).envelope.id]);
  });

  it('leaves an append to the log when the consumer does not accept it now (a saturated process)', async () => {
    const { log, consumer, handedOver } = setup();
    let accepting = false;
    log.follow({ ...consumer, accepts: () => accepting });
    await log.append([event(1)]);
    expect(handedOver).toEqual([]);
    expect((await log.readAfter(await log.getOffset('router'), 10)).map((e) => e.seq)).toEqual([1]);
    // Behind now: even once it accepts, appends wait until it has read the log up to them.
    accepting = true;
    await log.append([event(2)]);
    expect(handedOver).toEqual([]);
    await log.commitOffset('router', 2);
    await log.append([event(3)]);
    expect(handedOver.flat().map((e) => e.event.envelope.detail['n'])).toEqual([3]);
  });

  it('keeps the append when the consumer fails, and leaves the events to its reading of the log', async () => {
    const { log, consumer, handled } = setup();
    const failures: unknown[] = [];
    log.follow({
      ...consumer,
      handle: (events) => {
        consumer.handle(events); // its writes are rolled back with the hand-over
        throw new Error('no rule index');
      },
      failed: (err) => failures.push(err),
    });
    expect(await log.append([event(1)])).toMatchObject([{ outcome: 'stored' }]);
    expect(failures).toEqual([new Error('no rule index')]);
    expect(handled()).toEqual([]);
    expect(await log.getOffset('router')).toBe(0);
    expect((await log.readAfter(0, 10)).map((e) => e.event.envelope.id)).toEqual([event(1).envelope.id]);
  });

  it('stops handing over when the consumer stops following', async () => {
    const { log, consumer, handedOver } = setup();
    log.follow(consumer);
    log.follow(undefined);
    await log.append([event(1)]);
    expect(handedOver).toEqual([]);
    expect(await log.getOffset('router')).toBe(0);
  });
});
