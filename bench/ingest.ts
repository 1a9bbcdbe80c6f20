import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { normaliseWebhook } from '../src/ingest/alertmanager/normalise.ts';
import { parseWebhook } from '../src/ingest/alertmanager/payload.ts';
import { eventMigrations } from '../src/store/sqlite/events.ts';
import { openSqlite, runMigrations } from '../src/store/sqlite/database.ts';
import { serve } from '../test/support/process.ts';
import { cpuSeconds, fmt, line, median } from './_stats.ts';

const RUNS = 5;
const SECONDS = 4;
const CONNECTIONS = 64;
const CATCH_UP_LIMIT_MS = 120_000;

// Bodies are built by string concatenation from a pre-serialised template: the load generator shares the
// machine with the server, so it must spend as little CPU per request as possible. Every alert is unique
// (the counter is in its labels), so no request is acknowledged as a duplicate.
const ALERT_HEAD =
  '{"status":"firing","labels":{"alertname":"BenchAlert","namespace":"bench","service":"svc-';
const ALERT_TAIL =
  '"},"startsAt":"2026-11-25T20:00:00.000Z","endsAt":"0001-01-01T00:00:00Z",' +
  '"generatorURL":"http://127.0.0.1:9090/graph?g0.expr=up"}';
const BODY_HEAD =
  '{"version":"4","groupKey":"{}:{alertname=\\"BenchAlert\\"}","truncatedAlerts":0,"status":"firing",' +
  '"receiver":"rebound","groupLabels":{"alertname":"BenchAlert"},"commonLabels":{"alertname":"BenchAlert"},' +
  '"commonAnnotations":{},"externalURL":"http://127.0.0.1:9093","alerts":[';

let counter = 0;
function payload(alerts: number): string {
  let body = BODY_HEAD;
  for (let i = 0; i < alerts; i++) {
    const n = counter++;
    body +=
      (i ? ',' : '') +
      ALERT_HEAD +
      (n % 500) +
      '","pod":"pod-' +
      n +
      '","severity":"warning"},"annotations":{"summary":"bench alert ' +
      n +
      ALERT_TAIL;
  }
  return body + ']}';
}

async function load(url: string, alerts: number, options: { rate?: number; seconds?: number } = {}) {
  const result = await autocannon({
    url: `${url}/v1/webhooks/alertmanager`,
    connections: options.rate ? 16 : CONNECTIONS,
    duration: options.seconds ?? SECONDS,
    ...(options.rate ? { overallRate: options.rate } : {}),
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: payload(alerts) }),
      },
    ],
  });
  if (result.non2xx > 0 || result.errors > 0) {
    process.stdout.write(`  (warning: ${result.non2xx} non-2xx, ${result.errors} errors)\n`);
  }
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    count: result['2xx'],
  };
}

/**
 * The ceiling: better-sqlite3 alone inserting the same rows the server stores (same schema and indexes, same
 * pragmas, envelopes and dedup keys built by the real normaliser from the same payloads) in 500-row
 * transactions, synchronous=FULL, WAL. No HTTP, no parsing, no bus.
 */
function rawCeiling(dir: string): number {
  const db = openSqlite({ path: join(dir, 'raw.db') });
  runMigrations(db, eventMigrations);
  const insert = db.prepare(
    `INSERT INTO events (id, dedup_key, time, received_at, correlation_id, envelope)
     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING`,
  );
  const defaults = { account: '000000000000', region: 'local' };
  type Row = [string, string, string, string, string, string];
  const batch = db.transaction((rows: readonly Row[]) => {
    for (const row of rows) insert.run(...row);
  });
  // Rows are built between batches and only the inserts are timed.
  let n = 0;
  let insertMs = 0;
  while (insertMs < 2000) {
    const rows: Row[] = [];
    for (let i = 0; i < 10; i++) {
      for (const e of normaliseWebhook(parseWebhook(JSON.parse(payload(50))), defaults, new Date())) {
        const env = e.envelope;
        rows.push([env.id, e.dedupKey, env.time, e.receivedAt, e.correlationId, JSON.stringify(env)]);
      }
    }
    const started = performance.now();
    batch(rows);
    insertMs += performance.now() - started;
    n += rows.length;
  }
  const rate = n / (insertMs / 1000);
  db.close();
  for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `raw.db${suffix}`), { force: true });
  return rate;
}

async function projected(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = /^rebound_pipeline_latency_seconds_count (\d+)/m.exec(text);
  return match ? Number(match[1]) : 0;
}

/** Waits until the incident projection has caught up with `stored` alerts; returns its rate meanwhile. */
async function catchUp(url: string, stored: number): Promise<{ rate: number; ms: number; done: boolean }> {
  const started = performance.now();
  const from = await projected(url);
  let now = from;
  while (now < stored && performance.now() - started < CATCH_UP_LIMIT_MS) {
    await new Promise((r) => setTimeout(r, 250));
    now = await projected(url);
  }
  const ms = performance.now() - started;
  return { rate: ((now - from) / ms) * 1000, ms, done: now >= stored };
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rebound-bench-'));
  writeFileSync(join(dir, 'rebound.yaml'), 'logging:\n  level: warn\n');
  const server = await serve(['--config', join(dir, 'rebound.yaml'), '--data-dir', join(dir, 'data')]);
  try {
    process.stdout.write(
      `ingest benchmark: ${RUNS} runs × ${SECONDS}s, ${CONNECTIONS} connections, synchronous=FULL\n`,
    );
    // Warm-up; every alert stored counts towards the projection's catch-up below.
    let stored = 10 * (await load(server.url, 10, { seconds: 1 })).count;
    const cpu = () => cpuSeconds(server.child.pid) ?? NaN;
    const big: number[] = [];
    const small: number[] = [];
    const ceilings: number[] = [];
    // Server CPU per alert (µs) while a run lasts: unlike wall-clock rates, other load on the machine does
    // not change it, so it is the number to compare before/after a change on a shared machine.
    const bigCpu: number[] = [];
    const smallCpu: number[] = [];
    // Each run starts on a settled server: the incident projection runs behind ingest during a burst, and a
    // run that started with the previous one's backlog would measure that catch-up as well as its own load.
    // The projection of each run's own alerts still competes with it, as it does in production.
    let caught = { rate: 0, ms: 0, done: true };
    let endToEndCpu = NaN;
    for (let i = 0; i < RUNS; i++) {
      await catchUp(server.url, stored);
      const before = cpu();
      const b = await load(server.url, 50);
      bigCpu.push(((cpu() - before) / (b.count * 50)) * 1e6);
      big.push(b.rps * 50);
      stored += b.count * 50;
      if (i === RUNS - 1) {
        // How fast the projection drains one run's backlog, and the CPU per alert of the whole pipeline.
        caught = await catchUp(server.url, stored);
        endToEndCpu = ((cpu() - before) / (b.count * 50)) * 1e6;
      }
      ceilings.push(rawCeiling(dir));
    }
    for (let i = 0; i < RUNS; i++) {
      await catchUp(server.url, stored);
      const before = cpu();
      const s = await load(server.url, 1);
      smallCpu.push(((cpu() - before) / s.count) * 1e6);
      small.push(s.rps);
      stored += s.count;
    }
    const alertsPerSecond = median(big);
    const webhooksPerSecond = median(small);
    const ceiling = median(ceilings);
    await catchUp(server.url, stored);
    const half = await load(server.url, 1, { rate: Math.floor(webhooksPerSecond / 2), seconds: SECONDS });
    line('alerts/s, 50-alert payloads (median of 5)', fmt(alertsPerSecond), 'target ≥ 20,000');
    line('webhooks/s, 1-alert payloads (median of 5)', fmt(webhooksPerSecond), 'target ≥ 5,000');
    line(`latency at half rate (${fmt(webhooksPerSecond / 2)} req/s) p50`, `${fmt(half.p50, 2)} ms`);
    line(`latency at half rate p99`, `${fmt(half.p99, 2)} ms`);
    line('raw better-sqlite3 batched insert (median of 5)', fmt(ceiling), 'rows/s, the ceiling');
    line(
      'alerts/s as share of the raw ceiling',
      `${fmt((alertsPerSecond / ceiling) * 100, 1)} %`,
      'target ≥ 30 %',
    );
    line(
      'server CPU per alert, 50-alert runs (median)',
      `${fmt(median(bigCpu), 1)} µs`,
      `≈ ${fmt(1e6 / median(bigCpu))} alerts/s per core`,
    );
    line(
      'server CPU per webhook, 1-alert runs (median)',
      `${fmt(median(smallCpu), 1)} µs`,
      `≈ ${fmt(1e6 / median(smallCpu))} webhooks/s per core`,
    );
    line(
      'server CPU per alert, ingest → incident',
      `${fmt(endToEndCpu, 1)} µs`,
      'the last 50-alert run and its catch-up, divided by its alerts',
    );
    line(
      'incident projection catch-up after a run',
      fmt(caught.rate),
      `alerts/s; ${fmt(caught.ms / 1000, 1)} s${caught.done ? '' : ' (gave up: still behind)'}`,
    );
  } finally {
    await server.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
