import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import hdr from 'hdr-histogram-js';
import { Pool } from 'undici';
import { serve } from '../test/support/process.ts';
import { cpuSeconds, fmt, line, median } from './_stats.ts';

const RUNS = 5;
const EVENTS = 5000;
const BATCH = 10;
/** The issue's latency target: publish → delivered p99 ≤ 5 ms at this rate. */
const TARGET_RATE = 5000;

/** A webhook receiver in this process that timestamps each delivery. */
async function receiver(onEvent: (detail: { n: number; sentAt: number }) => void) {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      onEvent(
        (JSON.parse(Buffer.concat(chunks).toString()) as { detail: { n: number; sentAt: number } }).detail,
      );
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

/**
 * PutEvents over a keep-alive undici pool: this process also receives every delivery, and `fetch` cost it
 * twice the CPU per call (measured 23 % → 11 % of a core at 1,000 ev/s), time the harness would otherwise
 * take from the server on a 2-core machine and count as latency.
 */
async function publish(pool: Pool, from: number, count: number): Promise<void> {
  const entries = Array.from({ length: count }, (_, i) => ({
    Source: 'bench',
    DetailType: 'tick',
    Detail: JSON.stringify({ n: from + i, sentAt: performance.timeOrigin + performance.now() }),
  }));
  const res = await pool.request({
    path: '/v1/events',
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ Entries: entries }),
  });
  await res.body.dump();
  if (res.statusCode !== 200) throw new Error(`PutEvents answered ${res.statusCode}`);
}

/** prom-client's default `eventLoopMonitoringPrecision`: its event-loop monitor's timer interval. */
const LOOP_MONITOR_INTERVAL_S = 0.01;

/** The server's own pauses so far, from its /metrics (prom-client's default process metrics). */
interface Pauses {
  /** Young-generation collections (scavenges): how many, and their total duration in seconds. */
  readonly minor: number;
  readonly minorSeconds: number;
  /** Full (mark-compact) collections: the old generation's, rarer and longer. */
  readonly major: number;
  readonly majorSeconds: number;
  /**
   * How late the server's event loop ran a timer, p99 in seconds, since the previous scrape (prom-client
   * resets it at each one). prom-client's monitor times a timer due every 10 ms and reports the whole
   * interval, so its 10 ms are taken off.
   */
  readonly loopP99: number;
}

async function pauses(pool: Pool): Promise<Pauses> {
  const res = await pool.request({ path: '/metrics', method: 'GET' });
  const text = await res.body.text();
  const sample = (series: string) => {
    const found = text.split('\n').find((l) => l.startsWith(`${series} `));
    return found ? Number(found.slice(series.length + 1)) : NaN;
  };
  return {
    minor: sample('rebound_process_nodejs_gc_duration_seconds_count{kind="minor"}'),
    minorSeconds: sample('rebound_process_nodejs_gc_duration_seconds_sum{kind="minor"}'),
    // Absent until the first full collection.
    major: sample('rebound_process_nodejs_gc_duration_seconds_count{kind="major"}') || 0,
    majorSeconds: sample('rebound_process_nodejs_gc_duration_seconds_sum{kind="major"}') || 0,
    loopP99: Math.max(
      0,
      sample('rebound_process_nodejs_eventloop_lag_p99_seconds') - LOOP_MONITOR_INTERVAL_S,
    ),
  };
}

/**
 * Waits until the server is idle (under 5 % of a core over 250 ms, at most 10 s): the throughput runs leave
 * work behind them (checkpointing their WAL, deleting delivered rows) that a latency run would measure too.
 */
async function settle(pid: number | undefined): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (performance.now() < deadline) {
    const before = cpuSeconds(pid) ?? 0;
    await new Promise((r) => setTimeout(r, 250));
    if ((cpuSeconds(pid) ?? 0) - before < 0.0125) return;
  }
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rebound-bench-bus-'));
  let delivered = 0;
  let histogram = hdr.build();
  const rx = await receiver((d) => {
    delivered += 1;
    histogram.recordValue(
      Math.max(0, Math.round((performance.timeOrigin + performance.now() - d.sentAt) * 1000)),
    );
  });
  writeFileSync(
    join(dir, 'rebound.yaml'),
    `logging: { level: warn }\nbus:\n  rules:\n    - { name: bench, pattern: { source: [bench] }, targets: [{ kind: webhook, id: rx, url: "${rx.url}", concurrency: 64 }] }\n`,
  );
  const server = await serve(['--config', join(dir, 'rebound.yaml'), '--data-dir', join(dir, 'data')]);
  const pool = new Pool(server.url, { connections: 32 });
  try {
    const rates: number[] = [];
    const cpuAtStart = cpuSeconds(server.child.pid) ?? NaN;
    for (let run = 0; run < RUNS; run++) {
      delivered = 0;
      const started = performance.now();
      const inflight: Promise<void>[] = [];
      for (let i = 0; i < EVENTS; i += BATCH) {
        inflight.push(publish(pool, i, BATCH));
        if (inflight.length >= 32) await Promise.all(inflight.splice(0));
      }
      await Promise.all(inflight);
      while (delivered < EVENTS) await new Promise((r) => setTimeout(r, 1));
      rates.push(EVENTS / ((performance.now() - started) / 1000));
    }
    const rate = median(rates);
    // Server CPU per event (ingest, routing, delivery): insensitive to other load on a shared machine.
    const cpuPerEvent = (((cpuSeconds(server.child.pid) ?? NaN) - cpuAtStart) / (RUNS * EVENTS)) * 1e6;
    /**
     * Publishes at `perSecond` for 4 s, `batch` events per call; latency percentiles and this harness's share
     * of a core meanwhile.
     */
    const latencyAt = async (perSecond: number, batch = BATCH) => {
      await settle(server.child.pid);
      histogram = hdr.build();
      delivered = 0;
      const total = Math.round(perSecond * 4);
      const gcBefore = await pauses(pool); // also restarts the server's event-loop delay window
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      for (let i = 0; i < total; i += batch) {
        const due = started + (i / perSecond) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        void publish(pool, i, batch);
      }
      while (delivered < total) await new Promise((r) => setTimeout(r, 5));
      const cpu = process.cpuUsage(cpuBefore);
      const gcAfter = await pauses(pool);
      const minor = gcAfter.minor - gcBefore.minor;
      const major = gcAfter.major - gcBefore.major;
      return {
        p50: histogram.getValueAtPercentile(50) / 1000,
        p99: histogram.getValueAtPercentile(99) / 1000,
        harness: (cpu.user + cpu.system) / 1000 / (performance.now() - started),
        minor,
        minorMeanMs: minor > 0 ? ((gcAfter.minorSeconds - gcBefore.minorSeconds) / minor) * 1000 : 0,
        major,
        majorMs: (gcAfter.majorSeconds - gcBefore.majorSeconds) * 1000,
        loopP99Ms: gcAfter.loopP99 * 1000,
      };
    };
    process.stdout.write(
      `bus benchmark: PutEvents (${BATCH}/call) → rule → webhook target, ${RUNS} runs of ${EVENTS} events\n`,
    );
    line('publish → delivered throughput (median of 5)', `${fmt(rate)} ev/s`);
    line(
      'server CPU per event, publish → delivered',
      `${fmt(cpuPerEvent, 1)} µs`,
      `≈ ${fmt(1e6 / cpuPerEvent)} ev/s per core`,
    );
    type Latency = Awaited<ReturnType<typeof latencyAt>>;
    /** `runs`: how many latency runs `at` stands for (its full collections are their sum). */
    const report = (label: string, at: Latency, note: string, runs = 1) => {
      line(
        `${label} p50`,
        `${fmt(at.p50, 2)} ms`,
        `(this harness used ${fmt(at.harness * 100)} % of a core)`,
      );
      line(`${label} p99`, `${fmt(at.p99, 2)} ms`, note);
      // Every event in flight during a pause waits it out: the floor under the tail, whatever the path costs.
      line(
        `  server pauses meanwhile`,
        `${fmt(at.minorMeanMs, 2)} ms`,
        `mean of ${at.minor} scavenges (young-generation GC); event loop late by ${fmt(at.loopP99Ms, 2)} ms p99`,
      );
      // Rarer and longer (the old generation's): one in a run is most of that run's tail.
      line(
        `  full collections meanwhile${runs > 1 ? `, ${runs} runs summed` : ''}`,
        fmt(at.major),
        at.major > 0 ? `${fmt(at.majorMs / at.major, 2)} ms mean (mark-compact, the old generation)` : '',
      );
    };
    // One event per call, 100 a second: the path's own latency, with no queueing behind other events.
    report('latency one event at a time (100 ev/s)', await latencyAt(100, 1), '');
    report(`latency at half that rate (${fmt(rate / 2)} ev/s)`, await latencyAt(rate / 2), '');
    // The target's own point, when this machine can carry it with room to spare.
    if (rate >= 1.25 * TARGET_RATE) {
      // A 4-second run's p99 rests on its 200 slowest events: one stall of this shared VM moves it by
      // milliseconds. So the target's point is run five times, and each figure is the median of the five.
      const runs: Latency[] = [];
      for (let i = 0; i < RUNS; i++) runs.push(await latencyAt(TARGET_RATE));
      const mid = (pick: (l: Latency) => number) => median(runs.map(pick));
      const at: Latency = {
        p50: mid((l) => l.p50),
        p99: mid((l) => l.p99),
        harness: mid((l) => l.harness),
        minor: mid((l) => l.minor),
        minorMeanMs: mid((l) => l.minorMeanMs),
        loopP99Ms: mid((l) => l.loopP99Ms),
        // Not a median: a full collection in any one run is what that run's tail shows.
        major: runs.reduce((n, l) => n + l.major, 0),
        majorMs: runs.reduce((n, l) => n + l.majorMs, 0),
      };
      const p99s = runs.map((l) => l.p99);
      report(
        `latency at 5,000 ev/s (median of ${RUNS})`,
        at,
        `runs ${fmt(Math.min(...p99s), 2)}–${fmt(Math.max(...p99s), 2)} ms; target ≤ 5 ms: ${at.p99 <= 5 ? 'met' : 'not met'}`,
        RUNS,
      );
    } else {
      line(
        'latency at 5,000 ev/s',
        'not measured',
        `target ≤ 5 ms; this machine's ceiling (${fmt(rate)} ev/s) leaves no headroom for 5,000`,
      );
    }
  } finally {
    await pool.close();
    await server.kill('SIGTERM');
    rx.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
