import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/app.ts';
import { eventually, HttpReceiver } from '../support/http-receiver.ts';
import { serve, type Served } from '../support/process.ts';

const KILLS = 5;

function tally(ids: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}
const CONCURRENCY = 4;

/**
 * At-least-once delivery across crashes: producers publish through PutEvents while a slow webhook target
 * receives them and the server is SIGKILLed; after the last restart every accepted event has reached the
 * target, and the duplicates it saw are exactly the ones the outbox re-sent: deliveries the target had
 * received before a kill whose rows were still in the outbox when the server restarted.
 */
describe('bus delivery under SIGKILL', () => {
  const dir = tempDir('rebound-bus-crash-');
  const target = new HttpReceiver();
  afterAll(async () => {
    await target.stop();
    dir.remove();
  });

  it(`delivers every accepted event at least once across ${KILLS} kills`, { timeout: 420_000 }, async () => {
    await target.start();
    target.delayMs = 3;
    const config = join(dir.path, 'rebound.yaml');
    // A generous deadline: a POST that outlived it while this process stalled would be sent again within the
    // run, a duplicate that no kill caused.
    writeFileSync(
      config,
      `logging: { level: warn }
bus:
  rules:
    - name: orders
      pattern: { source: [shop] }
      targets:
        - { kind: webhook, id: slow, url: "${target.url}", concurrency: ${CONCURRENCY}, timeoutMs: 60000,
            retry: { maximumEventAgeSeconds: 600, maximumRetryAttempts: 50, baseDelayMs: 10, maxDelayMs: 200 } }
`,
    );
    const accepted = new Set<string>();
    const ids = () => target.received.map((r) => r.headers['x-rebound-event-id'] as string);
    /** Per event, how many times the outbox sent it again after a restart (what the target saw before). */
    const resent = new Map<string, number>();
    let server: Served | undefined;
    let seq = 0;
    for (let round = 0; round < KILLS; round++) {
      server = await serve(['--config', config, '--data-dir', join(dir.path, 'data')]);
      const url = `${server.url}/v1/events`;
      let running = true;
      const producers = Array.from({ length: 2 }, async () => {
        while (running) {
          const entries = Array.from({ length: 5 }, () => ({
            Source: 'shop',
            DetailType: 'order',
            Detail: JSON.stringify({ n: seq++ }),
          }));
          try {
            const res = await fetch(url, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ Entries: entries }),
            });
            if (res.ok) {
              const body = (await res.json()) as { Entries: { EventId?: string }[] };
              for (const e of body.Entries) if (e.EventId) accepted.add(e.EventId);
            }
          } catch {
            // killed mid-request: not accepted
          }
        }
      });
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 500));
      await server.kill('SIGKILL');
      running = false;
      await Promise.all(producers);
      // A POST the dead server had sent in full may still be landing here: wait until nothing more arrives.
      let seen = -1;
      await eventually(async () => {
        const now = target.received.length;
        if (now === seen) return true;
        seen = now;
        await new Promise((r) => setTimeout(r, 100));
        return false;
      });
      const got = new Set(ids());
      const db = new Database(join(dir.path, 'data', 'rebound.db'));
      try {
        const outbox = db.prepare('SELECT DISTINCT event_id FROM deliveries').pluck().all() as string[];
        for (const id of outbox) if (got.has(id)) resent.set(id, (resent.get(id) ?? 0) + 1);
      } finally {
        db.close();
      }
    }
    server = await serve(['--config', config, '--data-dir', join(dir.path, 'data')]);
    const received = () => new Set(target.received.map((r) => r.headers['x-rebound-event-id'] as string));
    try {
      // One set per check: rebuilding it per accepted id made each check quadratic, and the stalls it caused
      // in this process slowed the target down (it answers from here) until the wait ran out.
      const allDelivered = () => {
        const got = received();
        return [...accepted].every((id) => got.has(id));
      };
      await eventually(allDelivered, 240_000).catch((err: Error) => {
        const got = received();
        const missing = [...accepted].filter((id) => !got.has(id));
        throw new Error(
          `${err.message}: ${missing.length} of ${accepted.size} accepted events never delivered, e.g. ${missing.slice(0, 3).join(', ')}\n${server?.output()}`,
        );
      });
      // And every re-send the last restart owes has gone out: with no backlog at the last kill, the check
      // above holds before the worker has re-sent what it found queued.
      await eventually(() => {
        const counts = tally(ids());
        return [...resent].every(([id, n]) => (counts.get(id) ?? 0) > n);
      }, 60_000);
    } finally {
      await server.kill('SIGTERM');
    }
    expect(accepted.size).toBeGreaterThan(KILLS * 20);
    const counts = tally(ids());
    const extra = (m: Map<string, number>) => new Map([...m].filter(([, n]) => n > 0));
    // Every copy beyond the first is one the outbox re-sent after a restart, and every re-send arrived.
    expect(extra(new Map([...counts].map(([id, n]) => [id, n - 1])))).toEqual(extra(resent));
    // Each kill can interrupt at most CONCURRENCY deliveries between the target's answer and their removal.
    expect([...resent.values()].reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(KILLS * CONCURRENCY);
  });
});
