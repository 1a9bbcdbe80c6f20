import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import Database from 'better-sqlite3';
import { serve } from '../test/support/process.ts';
import { fmt, line, median } from './_stats.ts';

const RUNS = 5;
const SECONDS = 4;
const CONNECTIONS = 64;

let counter = 0;
function payload(alerts: number): string {
  const list = [];
  for (let i = 0; i < alerts; i++) {
    const n = counter++;
    list.push({
      status: 'firing',
      labels: {
        alertname: 'BenchAlert',
        namespace: 'bench',
        service: `svc-${n % 500}`,
        pod: `pod-${n}`,
        severity: 'warning',
      },
      annotations: { summary: `bench alert ${n}` },
      startsAt: '2026-11-25T20:00:00.000Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://127.0.0.1:9090/graph?g0.expr=up',
    });
  }
  return JSON.stringify({
    version: '4',
    groupKey: '{}:{alertname="BenchAlert"}',
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'rebound',
    groupLabels: { alertname: 'BenchAlert' },
    commonLabels: { alertname: 'BenchAlert' },
    commonAnnotations: {},
    externalURL: 'http://127.0.0.1:9093',
    alerts: list,
  });
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

/** The ceiling: better-sqlite3 inserting the same rows in batched transactions, synchronous=FULL, WAL. */
function rawCeiling(dir: string): number {
  const db = new Database(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, dedup_key TEXT NOT NULL UNIQUE,
    time TEXT NOT NULL, received_at TEXT NOT NULL, correlation_id TEXT NOT NULL, envelope TEXT NOT NULL)`);
  const insert = db.prepare(
    'INSERT INTO events (id, dedup_key, time, received_at, correlation_id, envelope) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const sample = JSON.parse(payload(1)).alerts[0];
  const batch = db.transaction((rows: number, base: number) => {
    for (let i = 0; i < rows; i++) {
      const n = base + i;
      const envelope = JSON.stringify({
        version: '0',
        id: `e${n}`,
        detail: { ...sample, fingerprint: n.toString(16) },
      });
      insert.run(`e${n}`, `k${n}`, '2026-11-25T20:00:00.000Z', '2026-11-25T20:00:00.000Z', `c${n}`, envelope);
    }
  });
  let n = 0;
  const started = performance.now();
  while (performance.now() - started < 2000) {
    batch(500, n);
    n += 500;
  }
  const rate = n / ((performance.now() - started) / 1000);
  db.close();
  return rate;
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rebound-bench-'));
  writeFileSync(join(dir, 'rebound.yaml'), 'logging:\n  level: warn\n');
  const server = await serve(['--config', join(dir, 'rebound.yaml'), '--data-dir', join(dir, 'data')]);
  try {
    process.stdout.write(
      `ingest benchmark: ${RUNS} runs × ${SECONDS}s, ${CONNECTIONS} connections, synchronous=FULL\n`,
    );
    await load(server.url, 10, { seconds: 1 }); // warm-up
    const big: number[] = [];
    const small: number[] = [];
    const ceilings: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      big.push((await load(server.url, 50)).rps * 50);
      small.push((await load(server.url, 1)).rps);
      ceilings.push(rawCeiling(dir));
      rmSync(join(dir, 'raw.db'), { force: true });
      rmSync(join(dir, 'raw.db-wal'), { force: true });
      rmSync(join(dir, 'raw.db-shm'), { force: true });
    }
    const alertsPerSecond = median(big);
    const webhooksPerSecond = median(small);
    const ceiling = median(ceilings);
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
  } finally {
    await server.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
