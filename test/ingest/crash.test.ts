import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { webhook, tempDir } from '../support/app.ts';
import { serve, type Served } from '../support/process.ts';

const KILLS = 20;
const CLIENTS = 8;

/**
 * Invariant 1, "2xx means durable": clients post unique alerts while the server is SIGKILLed at random moments;
 * after each restart every alert that got a 2xx must be in the store, and every stored alert must have been
 * projected onto its incident once the server has caught up.
 */
describe('ingest durability under SIGKILL', () => {
  const dir = tempDir('rebound-crash-');
  afterAll(() => dir.remove());

  it(`keeps every acknowledged alert across ${KILLS} kills`, { timeout: 240_000 }, async () => {
    const acked = new Set<string>();
    let next = 0;
    let server: Served | undefined;
    for (let round = 0; round < KILLS; round++) {
      server = await serve(['--data-dir', dir.path], { env: { REBOUND_LOG_LEVEL: 'warn' } });
      const url = `${server.url}/v1/webhooks/alertmanager`;
      let running = true;
      const clients = Array.from({ length: CLIENTS }, async () => {
        while (running) {
          const ids = Array.from({ length: 1 + (next % 5) }, () => `a${next++}`);
          const body = webhook(ids.map((id) => ({ labels: { alertname: 'Crash', service: id } })));
          try {
            const res = await fetch(url, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(body),
            });
            if (res.status === 200) ids.forEach((id) => acked.add(id));
            await res.arrayBuffer();
          } catch {
            // connection reset by the kill: not acknowledged, may or may not be stored
          }
        }
      });
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 350));
      await server.kill('SIGKILL');
      running = false;
      await Promise.all(clients);
    }
    expect(acked.size).toBeGreaterThan(KILLS * 10);

    // Final restart: let the projection catch up, then check the store directly.
    server = await serve(['--data-dir', dir.path]);
    const deadline = Date.now() + 30_000;
    let stored = new Set<string>();
    let incidents = 0;
    for (;;) {
      const db = new Database(join(dir.path, 'rebound.db'), { readonly: true });
      stored = new Set(
        (
          db.prepare("SELECT json_extract(envelope, '$.detail.labels.service') AS id FROM events").all() as {
            id: string;
          }[]
        ).map((r) => r.id),
      );
      incidents = (db.prepare('SELECT COUNT(*) AS n FROM incidents').get() as { n: number }).n;
      db.close();
      if (incidents === stored.size || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await server.kill('SIGTERM');
    const lost = [...acked].filter((id) => !stored.has(id));
    expect(lost).toEqual([]);
    expect(incidents).toBe(stored.size);
  });
});
