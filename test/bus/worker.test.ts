import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createBusMetrics } from '../../src/bus/metrics.ts';
import type { DeliveryStore } from '../../src/bus/port.ts';
import { webhookTarget } from '../../src/bus/targets/webhook.ts';
import { compileTargetInput } from '../../src/bus/transform/index.ts';
import { TargetWorker } from '../../src/bus/worker.ts';
import { SqliteDeliveryStore, busMigrations } from '../../src/store/sqlite/bus.ts';
import type { SqliteDatabase } from '../../src/store/sqlite/database.ts';
import { SqliteEventStore, eventMigrations } from '../../src/store/sqlite/events.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { tempDatabase } from '../support/sqlite.ts';
import { failing } from '../support/failing.ts';
import { eventually, HttpReceiver } from '../support/http-receiver.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Real SQLite stores with one delivery queued for `r/t`, and a receiver as its webhook target. */
async function setup(): Promise<{ db: SqliteDatabase; store: SqliteDeliveryStore; receiver: HttpReceiver }> {
  const { db, committer, close } = tempDatabase([...eventMigrations, ...busMigrations], 'rebound-worker-');
  const events = new SqliteEventStore(db, committer);
  const store = new SqliteDeliveryStore(db, committer, events);
  const receiver = await new HttpReceiver().start();
  cleanups.push(close, () => receiver.stop());
  const id = randomUUID();
  const now = new Date().toISOString();
  await events.append([
    {
      envelope: {
        version: '0',
        id,
        'detail-type': 'order',
        source: 'shop',
        account: '000000000000',
        time: now,
        region: 'local',
        resources: [],
        detail: { n: 1 },
      },
      correlationId: 'c-1',
      dedupKey: `put:${id}`,
      receivedAt: now,
    },
  ]);
  await store.enqueue([
    {
      eventId: id,
      target: 'r/t',
      rule: 'r',
      orderingKey: id,
      createdAt: Date.now(),
      replay: null,
      correlationId: 'c-1',
    },
  ]);
  return { db, store, receiver };
}

/** A worker delivering `r/t` to a webhook at `url` (4 lanes, quick retries), stopped after the test. */
function webhookWorker(store: DeliveryStore, url: string, logger = createLogger({ level: 'silent' })) {
  const worker = new TargetWorker({
    name: 'r/t',
    target: webhookTarget({ url, headers: {}, timeoutMs: 5000, now: () => new Date() }),
    input: compileTargetInput(undefined),
    retry: { maximumEventAgeSeconds: 86_400, maximumRetryAttempts: 185, baseDelayMs: 10, maxDelayMs: 100 },
    concurrency: 4,
    store,
    metrics: createBusMetrics(new Registry()),
    logger,
    now: Date.now,
  });
  cleanups.push(() => worker.stop());
  return worker;
}

describe('target worker', () => {
  it('survives a store that fails: logs it, waits, and delivers once the store answers', async () => {
    const { store, receiver } = await setup();
    let failures = 2;
    const flaky: DeliveryStore = failing(store, 'pending', () =>
      failures > 0 ? (failures--, new Error('SQLITE_IOERR: disk I/O error')) : undefined,
    );
    const lines: string[] = [];
    const logger = createLogger({
      level: 'error',
      destination: new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }),
    });
    const worker = webhookWorker(flaky, receiver.url, logger);
    worker.wake(); // before the fix, the rejected read was unhandled and Node exited
    await eventually(() => receiver.received.length === 1);
    expect(failures).toBe(0);
    expect(lines.join('')).toMatch(/delivery queue unavailable/);
    expect(lines.join('')).toMatch(/SQLITE_IOERR/);
    await worker.drain();
    expect(await store.pending('r/t', 10)).toEqual([]);
  });

  it('forgets what it had read when the store fails while a read is under way, and delivers it all', async () => {
    const { store, receiver } = await setup();
    const [first] = await store.pending('r/t', 10);
    const later = (orderingKey: string) => ({ ...first!, orderingKey, createdAt: Date.now() });
    receiver.delayMs = 100;
    // Recording that the first delivery succeeded fails once; reschedules are only counted.
    let failures = 1;
    let rescheduled = 0;
    const ioError = () =>
      failures > 0 ? (failures--, new Error('SQLITE_IOERR: disk I/O error')) : undefined;
    const counted = () => ((rescheduled += 1), undefined);
    const flaky: DeliveryStore = failing(failing(store, 'complete', ioError), 'reschedule', counted);
    const worker = webhookWorker(flaky, receiver.url);
    worker.wake();
    await eventually(() => receiver.received.length === 1);
    // While the first is under way: a second with its key (read, and held back behind it), then one with
    // another key that nothing reads yet. When recording the first fails, its lane ends and starts a read
    // of the queue, which finds the third; the failure forgets the window meanwhile.
    await store.enqueue([later(first!.orderingKey)]);
    worker.wake();
    await store.enqueue([later('other')]);
    await eventually(async () => (await store.pending('r/t', 10)).length === 0);
    await worker.drain();
    expect(failures).toBe(0);
    // The first went out twice (its outcome was not recorded), the others once each; the store's failure
    // was not counted as a failed attempt of the delivery.
    expect(receiver.received).toHaveLength(4);
    expect(rescheduled).toBe(0);
  });
});
