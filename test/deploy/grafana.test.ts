import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEPLOY, knownMetrics } from './known-metrics.ts';
import { baseMetricName, metricNames } from './promql-metrics.ts';

const DIR = join(DEPLOY, 'grafana/dashboards');

interface Target {
  refId: string;
  expr: string;
}
interface Panel {
  id: number;
  title: string;
  type: string;
  targets?: Target[];
  panels?: Panel[];
  datasource?: { type: string; uid: string };
}
interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; type: string }[] };
}

const files = async () => (await readdir(DIR)).filter((f) => f.endsWith('.json'));
const panelsOf = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...panelsOf(p.panels ?? [])]);

describe('Grafana dashboards', () => {
  let dashboards: [string, Dashboard][];
  let known: Set<string>;
  beforeAll(async () => {
    dashboards = await Promise.all(
      (await files()).map(
        async (f) =>
          [f, JSON.parse(await readFile(join(DIR, f), 'utf8')) as Dashboard] as [string, Dashboard],
      ),
    );
    known = await knownMetrics();
  });

  it('ships the pipeline-health and incident-overview dashboards with unique uids', () => {
    const uids = dashboards.map(([, d]) => d.uid);
    expect(uids).toEqual(expect.arrayContaining(['rebound-pipeline-health', 'rebound-incident-overview']));
    expect(new Set(uids).size).toBe(uids.length);
  });

  it('every panel queries the Prometheus datasource variable and has unique ids', () => {
    for (const [file, dashboard] of dashboards) {
      expect(
        dashboard.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource'),
        file,
      ).toBe(true);
      const panels = panelsOf(dashboard.panels);
      expect(new Set(panels.map((p) => p.id)).size, file).toBe(panels.length);
      for (const panel of panels.filter((p) => p.type !== 'row')) {
        expect(panel.datasource, `${file}: ${panel.title}`).toEqual({
          type: 'prometheus',
          uid: '${datasource}',
        });
        expect(panel.targets?.length, `${file}: ${panel.title}`).toBeGreaterThan(0);
      }
    }
  });

  it('every PromQL expression reads only metrics Rebound, the checkout service or the shipped rules export', () => {
    const unknown: string[] = [];
    let checked = 0;
    for (const [file, dashboard] of dashboards) {
      for (const panel of panelsOf(dashboard.panels)) {
        for (const target of panel.targets ?? []) {
          const names = metricNames(target.expr);
          expect(names.size, `${file}: ${panel.title}: ${target.expr}`).toBeGreaterThan(0);
          for (const name of names) {
            checked += 1;
            if (!known.has(name) && !known.has(baseMetricName(name)))
              unknown.push(`${file}: ${panel.title}: ${name}`);
          }
        }
      }
    }
    expect(unknown).toEqual([]);
    expect(checked).toBeGreaterThan(20);
  });

  it('the check catches a metric nobody exports', () => {
    const names = metricNames('sum(rate(rebound_made_up_total[5m]))');
    expect([...names].filter((n) => !known.has(n) && !known.has(baseMetricName(n)))).toEqual([
      'rebound_made_up_total',
    ]);
  });
});
