import { Command, Option } from 'commander';
import type { AnalyticsReport, Effectiveness } from '../../incidents/analytics.ts';
import { clientFor } from '../client.ts';
import { printJson, printTable, type OutputFormat } from '../output.ts';
import { parseDurationMs } from '../../guard/config.ts';
import { isoTime, parseUntil } from './automation.ts';

interface AnalyticsOptions {
  from?: string;
  to?: string;
  service?: string;
  bucket?: 'hour' | 'day';
  output: OutputFormat;
}

/** `rebound analytics`: the numbers behind the dashboard's Analytics page, from a running server. */
export function analyticsCommand(): Command {
  const cmd = new Command('analytics')
    .description(
      'MTTR/MTTA, incident frequency, remediation effectiveness and automated vs escalated share ' +
        '(incidents opened in the range; default the last 7 days)',
    )
    .option('--from <time>', 'start: ISO-8601 time or a duration back from now (7d, 12h)')
    .option('--to <time>', 'end: ISO-8601 time or a duration back from now (default now)')
    .option('--service <name>', 'only incidents of this service')
    .addOption(new Option('--bucket <size>', 'trend granularity').choices(['hour', 'day']))
    .addOption(
      new Option('-o, --output <format>', 'table or json').choices(['table', 'json']).default('table'),
    )
    .action(async (o: AnalyticsOptions) => {
      const params = new URLSearchParams();
      if (o.from) params.set('from', pastTime(o.from));
      if (o.to) params.set('to', pastTime(o.to));
      if (o.service) params.set('service', o.service);
      if (o.bucket) params.set('bucket', o.bucket);
      const query = params.size > 0 ? `?${params}` : '';
      const report = await clientFor(cmd).request<AnalyticsReport>(
        'GET',
        `/v1/analytics${query}`,
        undefined,
        {
          expect: ['range', 'overall', 'share', 'trends', 'frequency', 'effectiveness'],
        },
      );
      if (o.output === 'json') return printJson(report);
      printReport(report);
    });
  return cmd;
}

/** A duration means that long ago (`7d` → seven days back); anything else must be an ISO-8601 time. */
function pastTime(text: string): string {
  const ms = parseDurationMs(text);
  return ms === undefined ? parseUntil(text) : isoTime(Date.now() - ms, text);
}

const duration = (s: number | null): string => {
  if (s === null) return '-';
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${(s / 3600).toFixed(1)}h`;
};
const percent = (r: number | null): string => (r === null ? '-' : `${Math.round(r * 100)}%`);

function printReport(r: AnalyticsReport): void {
  const out = (line: string): void => void process.stdout.write(line + '\n');
  out(
    `incidents opened ${r.range.from} → ${r.range.to}: ${r.overall.incidents} (${r.overall.resolved} resolved)`,
  );
  out(`MTTR ${duration(r.overall.mttrSeconds)}   MTTA ${duration(r.overall.mttaSeconds)}`);
  const s = r.share;
  out(
    `automated ${s.automated}   escalated ${s.escalated}   manual ${s.manual}   still open ${s.open}` +
      (s.total > 0 ? `   (automated share ${percent(s.automated / s.total)})` : ''),
  );
  out('\nTRENDS (per ' + r.range.bucket + ')');
  printTable(
    r.trends.buckets
      .map((start, i) => ({
        start,
        incidents: r.trends.overall.count[i],
        mttr: duration(r.trends.overall.mttrSeconds[i] ?? null),
        mtta: duration(r.trends.overall.mttaSeconds[i] ?? null),
      }))
      .filter((row) => row.incidents !== 0),
    ['start', 'incidents', 'mttr', 'mtta'],
  );
  out('\nBY SERVICE');
  printTable(
    r.frequency.byService.map(({ key, count }) => {
      const series = r.trends.services[key];
      const ttr = series?.mttrSeconds.filter((v): v is number => v !== null) ?? [];
      return { service: key, incidents: count, mttr: duration(ttr.length ? Math.round(avg(ttr)) : null) };
    }),
    ['service', 'incidents', 'mttr'],
  );
  out('\nBY ALERT');
  printTable(
    r.frequency.byAlert.map(({ key, count }) => ({ alert: key, incidents: count })),
    ['alert', 'incidents'],
  );
  const effectiveness = (rows: Effectiveness[], name: string) =>
    printTable(
      rows.map((e) => ({
        [name]: e.key,
        runs: e.runs,
        succeeded: e.succeeded,
        success: percent(e.successRate),
        timeToResolve: duration(e.meanTimeToResolveSeconds),
      })),
      [name, 'runs', 'succeeded', 'success', 'timeToResolve'],
    );
  out('\nREMEDIATION BY ACTION');
  effectiveness(r.effectiveness.byAction, 'action');
  out('\nREMEDIATION BY RUNBOOK');
  effectiveness(r.effectiveness.byRunbook, 'runbook');
}

function avg(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
