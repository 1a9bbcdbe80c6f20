import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { generateSloRules } from '../../src/slo/generate.ts';
import { requireTool, run } from '../deploy/tools.ts';

/**
 * Generated rules under the real promtool: each case feeds request series with a known error ratio and
 * asserts which burn-rate windows fire (through the ALERTS series), including the ones that must not.
 */

const promtool = requireTool('promtool');

const SLOS = `
slos:
  - name: api-availability
    service: api
    objective: 99.9
    window: 30d
    sli:
      error: sum(rate(requests_total{status="error"}[{{window}}]))
      total: sum(rate(requests_total[{{window}}]))
  - name: api-latency
    objective: 99
    window: 28d
    sli:
      good: sum(rate(latency_bucket{le="0.3"}[{{window}}]))
      total: sum(rate(latency_count[{{window}}]))
    alerting:
      name: ApiLatencyBudgetBurn
`;

interface Case {
  readonly name: string;
  readonly series: Record<string, string>;
  readonly evalTime: string;
  readonly alertname: string;
  /** long_window values expected firing at evalTime. */
  readonly firing: readonly string[];
}

/** ok/error counters per minute: `ok` and `err` requests each minute for `minutes` minutes. */
const steady = (ok: number, err: number, minutes = 130) => ({
  'requests_total{status="ok"}': `0+${ok}x${minutes}`,
  'requests_total{status="error"}': `0+${err}x${minutes}`,
});

const CASES: Case[] = [
  {
    name: '2% errors (20× budget) fires every window',
    series: steady(98, 2),
    evalTime: '2h',
    alertname: 'ErrorBudgetBurn',
    firing: ['1h', '6h', '1d', '3d'],
  },
  {
    name: '0.8% errors (8×) skips the 14.4× page',
    series: steady(992, 8),
    evalTime: '2h',
    alertname: 'ErrorBudgetBurn',
    firing: ['6h', '1d', '3d'],
  },
  {
    name: '0.2% errors (2×) only opens the slow ticket',
    series: steady(998, 2),
    evalTime: '2h',
    alertname: 'ErrorBudgetBurn',
    firing: ['3d'],
  },
  {
    name: '0.05% errors (half the budget) fires nothing',
    series: steady(1999, 1),
    evalTime: '2h',
    alertname: 'ErrorBudgetBurn',
    firing: [],
  },
  {
    name: 'no traffic fires nothing',
    series: steady(0, 0),
    evalTime: '2h',
    alertname: 'ErrorBudgetBurn',
    firing: [],
  },
  {
    // 10 minutes of total outage, then healthy: the short windows reset the pages although the long
    // windows still remember the burst; the tickets stay because a tenth of the budget really was spent.
    name: 'a burst that has ended stops paging',
    series: {
      'requests_total{status="ok"}': '0x10 0+100x50',
      'requests_total{status="error"}': '0+100x10 1000x50',
    },
    evalTime: '45m',
    alertname: 'ErrorBudgetBurn',
    firing: ['1d', '3d'],
  },
  {
    name: 'latency SLO (good/total, 28d window) with every request slow',
    series: { 'latency_bucket{le="0.3"}': '0x130', latency_count: '0+50x130' },
    evalTime: '2h',
    alertname: 'ApiLatencyBudgetBurn',
    firing: ['1h', '6h', '1d', '3d'],
  },
  {
    name: 'latency SLO with 99.5% fast requests fires nothing',
    series: { 'latency_bucket{le="0.3"}': '0+995x130', latency_count: '0+1000x130' },
    evalTime: '2h',
    alertname: 'ApiLatencyBudgetBurn',
    firing: [],
  },
];

function promtoolTest(rulesPath: string, c: Case): string {
  return stringify({
    rule_files: [rulesPath],
    evaluation_interval: '1m',
    tests: [
      {
        interval: '1m',
        input_series: Object.entries(c.series).map(([series, values]) => ({ series, values })),
        promql_expr_test: [
          {
            expr: `count by (long_window) (ALERTS{alertname="${c.alertname}", alertstate="firing"})`,
            eval_time: c.evalTime,
            exp_samples: c.firing.map((w) => ({ labels: `{long_window="${w}"}`, value: 1 })),
          },
        ],
      },
    ],
  });
}

describe.skipIf(!promtool)('generated SLO rules under promtool', () => {
  let dir: string;
  let rulesPath: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rebound-slo-'));
    rulesPath = join(dir, 'slo.rules.yml');
    await writeFile(rulesPath, generateSloRules(SLOS));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('pass promtool check rules', async () => {
    const result = await run(promtool!, ['check', 'rules', rulesPath]);
    expect(result.stdout).toMatch(/SUCCESS: \d+ rules found/);
    expect(result.code).toBe(0);
  });

  it.each(CASES)('$name', async (c) => {
    const testPath = join(dir, `${c.name.replace(/\W+/g, '-')}.test.yml`);
    await writeFile(testPath, promtoolTest(rulesPath, c));
    const result = await run(promtool!, ['test', 'rules', testPath]);
    expect(result.stdout + result.stderr).toMatch(/SUCCESS/);
    expect(result.code).toBe(0);
  });

  it('a wrong expectation fails (the cases above can fail)', async () => {
    const wrong = { ...CASES[3]!, name: 'wrong', firing: ['1h'] };
    const testPath = join(dir, 'wrong.test.yml');
    await writeFile(testPath, promtoolTest(rulesPath, wrong));
    const result = await run(promtool!, ['test', 'rules', testPath]);
    expect(result.code).not.toBe(0);
  });
});
