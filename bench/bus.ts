import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import hdr from 'hdr-histogram-js';
import { serve } from '../test/support/process.ts';
import { cpuSeconds, fmt, line, median } from './_stats.ts';

const RUNS = 5;
const EVENTS = 5000;
const BATCH = 10;

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

async function publish(url: string, from: number, count: number): Promise<void> {
  const entries = Array.from({ length: count }, (_, i) => ({
    Source: 'bench',
    DetailType: 'tick',
    Detail: JSON.stringify({ n: from + i, sentAt: performance.timeOrigin + performance.now() }),
  }));
  const res = await fetch(`${url}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ Entries: entries }),
  });
  if (!res.ok) throw new Error(`PutEvents answered ${res.status}`);
  await res.arrayBuffer();
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
  try {
    const rates: number[] = [];
    const cpuAtStart = cpuSeconds(server.child.pid) ?? NaN;
    for (let run = 0; run < RUNS; run++) {
      delivered = 0;
      const started = performance.now();
      const inflight: Promise<void>[] = [];
      for (let i = 0; i < EVENTS; i += BATCH) {
        inflight.push(publish(server.url, i, BATCH));
        if (inflight.length >= 32) await Promise.all(inflight.splice(0));
      }
      await Promise.all(inflight);
      while (delivered < EVENTS) await new Promise((r) => setTimeout(r, 1));
      rates.push(EVENTS / ((performance.now() - started) / 1000));
    }
    const rate = median(rates);
    // Server CPU per event (ingest, routing, delivery): insensitive to other load on a shared machine.
    const cpuPerEvent = (((cpuSeconds(server.child.pid) ?? NaN) - cpuAtStart) / (RUNS * EVENTS)) * 1e6;
    const half = rate / 2;
    histogram = hdr.build();
    delivered = 0;
    const total = Math.round(half * 4);
    const started = performance.now();
    for (let i = 0; i < total; i += BATCH) {
      const due = started + (i / half) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      void publish(server.url, i, BATCH);
    }
    while (delivered < total) await new Promise((r) => setTimeout(r, 5));
    process.stdout.write(
      `bus benchmark: PutEvents (${BATCH}/call) → rule → webhook target, ${RUNS} runs of ${EVENTS} events\n`,
    );
    line('publish → delivered throughput (median of 5)', `${fmt(rate)} ev/s`);
    line(
      'server CPU per event, publish → delivered',
      `${fmt(cpuPerEvent, 1)} µs`,
      `≈ ${fmt(1e6 / cpuPerEvent)} ev/s per core`,
    );
    line(
      `latency at half that rate (${fmt(half)} ev/s) p50`,
      `${fmt(histogram.getValueAtPercentile(50) / 1000, 2)} ms`,
    );
    line(
      'latency at half rate p99',
      `${fmt(histogram.getValueAtPercentile(99) / 1000, 2)} ms`,
      'target ≤ 5 ms at 5,000 ev/s',
    );
  } finally {
    await server.kill('SIGTERM');
    rx.server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
