import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEPLOY, knownMetrics, readRuleFile } from './known-metrics.ts';
import type { RuleShape } from './known-metrics.ts';
import { baseMetricName, metricNames } from './promql-metrics.ts';
import { requireTool, run } from './tools.ts';

const PROM = join(DEPLOY, 'prometheus');
const promtool = requireTool('promtool');
const ruleFiles = async (dir: string) =>
  (await readdir(join(PROM, dir))).filter((f) => f.endsWith('.yml')).map((f) => join(PROM, dir, f));

describe.skipIf(!promtool)('shipped Prometheus rules under promtool', () => {
  const scratch: string[] = [];
  afterAll(async () => {
    for (const dir of scratch) await rm(dir, { recursive: true, force: true });
  });

  it('every rule file passes promtool check rules', async () => {
    const files = [...(await ruleFiles('rules')), ...(await ruleFiles('demo/rules'))];
    expect(files.length).toBeGreaterThanOrEqual(5);
    const result = await run(promtool!, ['check', 'rules', ...files]);
    expect(result.stderr + result.stdout).not.toMatch(/FAILED/);
    expect(result.code).toBe(0);
  });

  it('every rule unit test passes promtool test rules', async () => {
    const tests = await ruleFiles('tests');
    expect(tests.map((t) => t.split('/').at(-1))).toEqual(
      expect.arrayContaining([
        'checkout.test.yml',
        'rebound.test.yml',
        'demo.test.yml',
        'slo-checkout.test.yml',
        'kubernetes.test.yml',
      ]),
    );
    const result = await run(promtool!, ['test', 'rules', ...tests]);
    expect(result.stdout + result.stderr).not.toMatch(/FAILED/);
    expect(result.code).toBe(0);
  });

  it('the harness can fail: a wrong expectation makes promtool test rules exit non-zero', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rebound-promtool-'));
    scratch.push(dir);
    const testFile = join(dir, 'wrong.test.yml');
    await writeFile(
      testFile,
      [
        'rule_files: [' + JSON.stringify(join(PROM, 'rules/checkout.rules.yml')) + ']',
        'evaluation_interval: 1m',
        'tests:',
        '  - interval: 1m',
        "    input_series: [{series: 'up{job=\"checkout\"}', values: '1x10'}]",
        '    alert_rule_test: [{eval_time: 5m, alertname: CheckoutUnavailable, exp_alerts: [{exp_labels: {severity: critical}}]}]',
      ].join('\n'),
    );
    const result = await run(promtool!, ['test', 'rules', testFile]);
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/FAILED/);
  });

  it('the fast-demo Prometheus configuration is valid', async () => {
    const result = await run(promtool!, ['check', 'config', join(PROM, 'demo/prometheus.yml')]);
    expect(result.stdout + result.stderr).toMatch(/is valid prometheus config file syntax/);
    expect(result.code).toBe(0);
  });

  it('the production Prometheus configuration is valid', async () => {
    // promtool insists that credential files exist: a copy points them at a stand-in token.
    const dir = await mkdtemp(join(tmpdir(), 'rebound-promcfg-'));
    const check = async (standInDiscovery: boolean) => {
      const config = parseYaml(await readFile(join(PROM, 'prometheus.yml'), 'utf8')) as {
        scrape_configs?: Record<string, unknown>[];
      };
      const token = join(dir, 'token');
      await writeFile(token, 'a-viewer-token-for-promtool');
      let credentials = 0;
      for (const job of config.scrape_configs ?? []) {
        const auth = job['authorization'] as { credentials_file?: string } | undefined;
        if (auth?.credentials_file) {
          expect(auth.credentials_file).toMatch(/^\//);
          auth.credentials_file = token;
          credentials += 1;
        }
        // Debian builds Prometheus without Kubernetes discovery: check everything else by standing in static
        // target lists for the discovery blocks (and their relabelling, which reads discovery labels).
        if (!standInDiscovery || !('kubernetes_sd_configs' in job)) continue;
        delete job['kubernetes_sd_configs'];
        job['static_configs'] = [{ targets: ['127.0.0.1:9'] }];
      }
      expect(credentials).toBe(1); // Rebound's own job: its /metrics needs a token
      const copy = join(dir, 'prometheus.yml');
      await writeFile(copy, stringifyYaml(config));
      await cp(join(PROM, 'rules'), join(dir, 'rules'), { recursive: true });
      return run(promtool!, ['check', 'config', copy]);
    };
    try {
      let result = await check(false);
      if (/field kubernetes_sd_configs not found/.test(result.stdout + result.stderr))
        result = await check(true);
      expect(result.stdout + result.stderr).toMatch(/is valid prometheus config file syntax/);
      expect(result.code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('fast-demo rules mirror the production rules', () => {
  const normalise = (expr: string) => expr.replace(/\[\d+[smhdw]\]/g, '[W]').trim();
  const pairs = ['checkout', 'rebound'].map((name) => [
    join(PROM, 'rules', `${name}.rules.yml`),
    join(PROM, 'demo/rules', `${name}.rules.yml`),
  ]);

  it.each(pairs)(
    '%s ↔ its demo twin: same alerts, labels, annotations and logic',
    async (prodPath, demoPath) => {
      const prod = (await readRuleFile(prodPath)).groups.flatMap((g) => g.rules);
      const demo = (await readRuleFile(demoPath)).groups.flatMap((g) => g.rules);
      expect(demo.map((r) => r.alert)).toEqual(prod.map((r) => r.alert));
      prod.forEach((rule, i) => {
        const twin = demo[i]!;
        expect(twin.labels).toEqual(rule.labels);
        expect(twin.annotations).toEqual(rule.annotations);
        expect(normalise(twin.expr)).toBe(normalise(rule.expr));
        // Fires at once, except on the absence of Rebound's target: there is none before the first scrape.
        expect(twin.for ?? '0s').toBe(rule.alert === 'ReboundAbsent' ? '15s' : '0s');
      });
    },
  );

  it('production alerts wait before firing where a blip would page', async () => {
    const prod = (await readRuleFile(join(PROM, 'rules/checkout.rules.yml'))).groups.flatMap((g) => g.rules);
    const byName = new Map(prod.map((r) => [r.alert, r]));
    expect(byName.get('CheckoutHighErrorRatio')?.for).toBe('2m');
    expect(byName.get('CheckoutHighLatencyP95')?.for).toBe('5m');
  });
});

describe('shipped rules', () => {
  const all = async (): Promise<RuleShape[]> => {
    const files = [...(await ruleFiles('rules')), ...(await ruleFiles('demo/rules'))];
    return (await Promise.all(files.map(readRuleFile))).flatMap((f) => f.groups.flatMap((g) => g.rules));
  };

  it('read only metrics that exist: Rebound, the checkout service, kube-state-metrics or recorded', async () => {
    const known = await knownMetrics();
    const unknown = new Set<string>();
    for (const rule of await all()) {
      for (const name of metricNames(rule.expr))
        if (!known.has(baseMetricName(name)) && !known.has(name)) unknown.add(name);
    }
    expect([...unknown]).toEqual([]);
  });

  it('label every alert with a severity, and checkout alerts with service=checkout', async () => {
    for (const rule of (await all()).filter((r) => r.alert)) {
      expect(['critical', 'warning'], rule.alert).toContain(rule.labels?.['severity']);
      if (rule.alert!.startsWith('Checkout')) expect(rule.labels?.['service']).toBe('checkout');
      if (rule.alert!.startsWith('Rebound')) expect(rule.labels?.['component']).toBe('rebound');
      expect(rule.annotations?.['summary'], rule.alert).toBeTruthy();
    }
  });
});
