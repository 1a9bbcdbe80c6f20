import { useMemo, useState } from 'preact/hooks';
import { api, qs } from '../api.ts';
import { BarList, TimeChart, type ChartSeries } from '../components/chart.tsx';
import { Loading, Section, useResource } from '../components/ui.tsx';
import { duration, percent } from '../format.ts';
import { useLive } from '../live.ts';
import type { AnalyticsReport, Effectiveness } from '../types.ts';

const RANGES = [
  ['24h', 1],
  ['7d', 7],
  ['30d', 30],
  ['90d', 90],
] as const;

function EffectivenessTable(props: { title: string; rows: readonly Effectiveness[] }) {
  if (props.rows.length === 0)
    return <p class="muted">No {props.title.toLowerCase()} recorded in this range.</p>;
  return (
    <table class="list" aria-label={props.title}>
      <thead>
        <tr>
          <th scope="col">{props.title}</th>
          <th scope="col">Incidents</th>
          <th scope="col">Fixed</th>
          <th scope="col">Success rate</th>
          <th scope="col">Time to resolve</th>
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r) => (
          <tr key={r.key}>
            <td data-label={props.title}>{r.key}</td>
            <td data-label="Incidents">{r.runs}</td>
            <td data-label="Fixed">{r.succeeded}</td>
            <td data-label="Success rate">{percent(r.successRate)}</td>
            <td data-label="Time to resolve">{duration(r.meanTimeToResolveSeconds)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function AnalyticsPage() {
  const [days, setDays] = useState(7);
  const [service, setService] = useState('');
  const report = useResource(() => {
    const to = new Date();
    const from = new Date(to.getTime() - days * 86_400_000);
    return api<AnalyticsReport>(
      'GET',
      `/v1/analytics${qs({ from: from.toISOString(), to: to.toISOString(), service })}`,
    );
  }, [days, service]);
  useLive(['incident'], () => report.reload());
  const r = report.data;

  const timeSeries = useMemo((): ChartSeries[] => {
    if (!r) return [];
    return [
      { label: 'MTTR', values: r.trends.overall.mttrSeconds, color: '--chart-1' },
      { label: 'MTTA', values: r.trends.overall.mttaSeconds, color: '--chart-2' },
    ];
  }, [r]);
  const serviceSeries = useMemo((): ChartSeries[] => {
    if (!r) return [];
    return Object.entries(r.trends.services)
      .slice(0, 6)
      .map(([name, s], i) => ({ label: name, values: s.mttrSeconds, color: `--chart-${(i % 6) + 1}` }));
  }, [r]);
  const countSeries = useMemo(
    (): ChartSeries[] =>
      r ? [{ label: 'incidents', values: r.trends.overall.count, color: '--chart-3', bars: true }] : [],
    [r],
  );

  return (
    <div class="page">
      <h1>Analytics</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="a-range">Range</label>
          <select
            id="a-range"
            value={String(days)}
            onChange={(e) => setDays(Number((e.target as HTMLSelectElement).value))}
          >
            {RANGES.map(([label, d]) => (
              <option key={d} value={String(d)}>
                last {label}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="a-service">Service</label>
          <select
            id="a-service"
            value={service}
            onChange={(e) => setService((e.target as HTMLSelectElement).value)}
          >
            <option value="">all services</option>
            {r &&
              Object.keys(r.trends.services)
                .filter((s) => s !== '(none)')
                .map((s) => (
                  <option key={s} value={s}>
                    {s}
                  </option>
                ))}
            {service && r && !r.trends.services[service] && <option value={service}>{service}</option>}
          </select>
        </div>
      </form>
      <Loading resource={report} />
      {r && (
        <>
          <div class="stats" role="group" aria-label="Summary">
            <div class="stat">
              <span class="stat-value" data-stat="incidents">
                {r.overall.incidents}
              </span>
              <span class="stat-label">incidents</span>
            </div>
            <div class="stat">
              <span class="stat-value" data-stat="mttr">
                {duration(r.overall.mttrSeconds)}
              </span>
              <span class="stat-label">MTTR (open → resolved)</span>
            </div>
            <div class="stat">
              <span class="stat-value" data-stat="mtta">
                {duration(r.overall.mttaSeconds)}
              </span>
              <span class="stat-label">MTTA (open → acknowledged or runbook)</span>
            </div>
            <div class="stat">
              <span class="stat-value" data-stat="automated">
                {percent(r.share.total ? r.share.automated / r.share.total : null)}
              </span>
              <span class="stat-label">fixed by automation</span>
            </div>
          </div>
          <Section title="Trends" id="h-trends">
            <div class="charts">
              <TimeChart
                title={`MTTR and MTTA per ${r.range.bucket}`}
                x={r.trends.buckets}
                series={timeSeries}
                yLabel="time"
                format={duration}
              />
              <TimeChart
                title={`Incidents per ${r.range.bucket}`}
                x={r.trends.buckets}
                series={countSeries}
                yLabel="incidents"
              />
              {serviceSeries.length > 1 && (
                <TimeChart
                  title="MTTR per service"
                  x={r.trends.buckets}
                  series={serviceSeries}
                  yLabel="time"
                  format={duration}
                />
              )}
            </div>
          </Section>
          <div class="split">
            <Section title="Incidents by service" id="h-by-service">
              <BarList label="Incidents by service" items={r.frequency.byService} />
            </Section>
            <Section title="Incidents by alert" id="h-by-alert">
              <BarList label="Incidents by alert" items={r.frequency.byAlert} />
            </Section>
          </div>
          <Section title="How incidents ended" id="h-share">
            <div
              class="share"
              role="img"
              aria-label={`automated ${r.share.automated}, escalated ${r.share.escalated}, manual ${r.share.manual}, open ${r.share.open}`}
            >
              {(['automated', 'escalated', 'manual', 'open'] as const).map((k) =>
                r.share[k] > 0 ? (
                  <span key={k} class={`share-${k}`} style={{ flexGrow: r.share[k] }} />
                ) : null,
              )}
            </div>
            <ul class="legend">
              <li>
                <span class="swatch share-automated" aria-hidden="true" /> automated {r.share.automated}
              </li>
              <li>
                <span class="swatch share-escalated" aria-hidden="true" /> escalated {r.share.escalated}
              </li>
              <li>
                <span class="swatch share-manual" aria-hidden="true" /> resolved otherwise {r.share.manual}
              </li>
              <li>
                <span class="swatch share-open" aria-hidden="true" /> still open {r.share.open}
              </li>
            </ul>
          </Section>
          <Section title="Remediation effectiveness" id="h-effectiveness">
            <EffectivenessTable title="Runbook" rows={r.effectiveness.byRunbook} />
            <EffectivenessTable title="Action" rows={r.effectiveness.byAction} />
          </Section>
        </>
      )}
    </div>
  );
}
