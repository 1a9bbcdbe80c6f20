/**
 * Pattern matching throughput: events/s matched against 1, 100 and 10,000 rules through the RuleIndex, with a
 * naive scan of every rule measured in the same run as the baseline. Medians of 5 runs; the machines are
 * shared and noisy, so read the ratio, not the absolute numbers.
 */
import { performance } from 'node:perf_hooks';
import { compilePattern, matches, RuleIndex, type CompiledPattern } from '../src/bus/pattern/index.ts';

const RUNS = 5;
const RUN_MS = 300;
const EVENTS = 5000;
/** Events whose matches are compared with the naive scan before timing (and counted in the last column). */
const CHECKED = 200;
const ALERTNAMES = Array.from(
  { length: 400 },
  (_, i) => `Alert${i}${['HighLatency', 'ErrorBudgetBurn', 'PodCrashLooping', 'DiskFull'][i % 4]}`,
);
const NAMESPACES = [
  'payments',
  'checkout',
  'search',
  'auth',
  'team-data-ingest',
  'team-data-etl',
  'monitoring',
  'kube-system',
];
const SERVICES = ['api', 'worker', 'db', 'cache', 'gateway', 'scheduler'];
const SEVERITIES = ['critical', 'warning', 'info'];

/** A deterministic pseudo-random sequence, so every run and machine sees the same events and rules. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

/** Alertmanager alerts normalised into the EventBridge envelope, as ingest produces them. */
function makeEvents(count: number): unknown[] {
  const random = lcg(42);
  return Array.from({ length: count }, (_, i) => {
    const labels: Record<string, string> = {
      alertname: pick(random, ALERTNAMES),
      severity: pick(random, SEVERITIES),
      namespace: pick(random, NAMESPACES),
      service: pick(random, SERVICES),
    };
    if (random() < 0.6) labels['pod'] = `${labels['service']}-${Math.floor(random() * 1e6).toString(16)}`;
    return {
      version: '0',
      id: `01J${i.toString(36).padStart(10, '0')}`,
      'detail-type': 'Alertmanager Alert',
      source: 'rebound.alertmanager',
      account: 'local',
      time: '2026-11-25T21:00:00Z',
      region: 'local',
      resources: [`k8s:${labels['namespace']}/${labels['service']}`],
      detail: {
        status: random() < 0.8 ? 'firing' : 'resolved',
        labels,
        annotations: { summary: `${labels['alertname']} on ${labels['service']}`, runbook: 'restart' },
        startsAt: '2026-11-25T20:59:00Z',
        fingerprint: Math.floor(random() * 2 ** 52)
          .toString(16)
          .padStart(16, '0'),
        value: Math.round(random() * 1000) / 10,
      },
    };
  });
}

/**
 * Rules as SRE teams write them: mostly exact alert names, with prefix (an alert family such as
 * "Alert12Disk*"), anything-but, numeric and exists.
 */
function makeRules(count: number): CompiledPattern[] {
  const random = lcg(7);
  return Array.from({ length: count }, (_, i) => {
    const alertname = pick(random, ALERTNAMES);
    const base = { source: ['rebound.alertmanager'] };
    switch (i % 10) {
      case 0:
      case 1:
      case 2:
      case 3:
        return compilePattern({
          ...base,
          detail: { labels: { alertname: [alertname], severity: ['critical', 'warning'] } },
        });
      case 4:
      case 5:
        return compilePattern({
          ...base,
          detail: {
            status: ['firing'],
            labels: { namespace: [{ prefix: 'team-data' }], alertname: [alertname] },
          },
        });
      case 6:
        return compilePattern({
          ...base,
          detail: { status: [{ 'anything-but': 'resolved' }], labels: { alertname: [alertname] } },
        });
      case 7:
        return compilePattern({
          ...base,
          detail: {
            value: [{ numeric: ['>', Math.floor(random() * 90)] }],
            labels: { service: [pick(random, SERVICES)], alertname: [alertname] },
          },
        });
      case 8:
        return compilePattern({
          ...base,
          detail: { labels: { pod: [{ exists: true }], alertname: [alertname, pick(random, ALERTNAMES)] } },
        });
      default:
        return compilePattern({
          ...base,
          detail: {
            labels: {
              severity: ['critical'],
              namespace: [pick(random, NAMESPACES)],
              alertname: [{ prefix: alertname.replace(/[A-Z][a-z]+$/, '') }],
            },
          },
        });
    }
  });
}

/** Events matched per second by `matchOne`, median of RUNS runs of about RUN_MS each. */
function throughput(events: readonly unknown[], matchOne: (event: unknown) => number): number {
  const rates: number[] = [];
  let sink = 0;
  for (let run = 0; run < RUNS; run++) {
    let done = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < RUN_MS) {
      for (let i = 0; i < 100; i++) sink += matchOne(events[(done + i) % events.length]);
      done += 100;
      elapsed = performance.now() - start;
    }
    rates.push((done / elapsed) * 1000);
  }
  if (sink < 0) process.stdout.write(''); // keeps the work observable so it is not optimised away
  rates.sort((a, b) => a - b);
  return rates[Math.floor(rates.length / 2)]!;
}

function checkSameResults(
  events: readonly unknown[],
  index: RuleIndex,
  rules: readonly CompiledPattern[],
): number {
  let matched = 0;
  for (const event of events.slice(0, CHECKED)) {
    const fromIndex = index.match(event);
    const fromScan = rules.flatMap((rule, i) => (matches(rule, event) ? [`r${i}`] : []));
    if (fromIndex.join() !== fromScan.join())
      throw new Error('index and naive scan disagree: fix before benchmarking');
    matched += fromIndex.length;
  }
  return matched;
}

function format(rate: number): string {
  return Math.round(rate).toLocaleString('en-US').padStart(12);
}

export async function run(): Promise<void> {
  const events = makeEvents(EVENTS);
  process.stdout.write(
    `patterns: ${EVENTS} Alertmanager events, median of ${RUNS} runs of ~${RUN_MS} ms each\n`,
  );
  process.stdout.write(
    `${'rules'.padStart(6)} ${'index ev/s'.padStart(12)} ${'naive ev/s'.padStart(12)}  ratio  matches/${CHECKED} ev\n`,
  );
  for (const count of [1, 100, 10_000]) {
    const rules = makeRules(count);
    const index = new RuleIndex();
    rules.forEach((rule, i) => index.add(`r${i}`, rule));
    const matched = checkSameResults(events, index, rules);
    const indexed = throughput(events, (event) => index.match(event).length);
    const naive = throughput(events, (event) => {
      let n = 0;
      for (const rule of rules) if (matches(rule, event)) n++;
      return n;
    });
    process.stdout.write(
      `${String(count).padStart(6)} ${format(indexed)} ${format(naive)} ${(indexed / naive).toFixed(1).padStart(6)}x  ${matched}\n`,
    );
    await new Promise((resolve) => setImmediate(resolve));
  }
}
