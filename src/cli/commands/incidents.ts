import { Command } from 'commander';
import { INCIDENT_STATUSES } from '../../incidents/lifecycle.ts';
import type { Incident, IncidentAlert, TimelineEntry } from '../../incidents/model.ts';
import { assertOrdered, commaListOf, parseIsoTime, parseLimit } from '../args.ts';
import { clientFor as client, type ApiOptions } from '../client.ts';
import { printJson, printTable, type OutputFormat, outputOption } from '../output.ts';

interface CommonOptions extends ApiOptions {
  output: OutputFormat;
}

/** `rebound incidents list|show|ack|resolve`, through the REST API of a running server. */
export function incidentsCommand(): Command {
  const cmd = new Command('incidents').description('list and act on incidents (talks to a running server)');

  cmd
    .command('list')
    .description('list incidents, newest first')
    .option(
      '--status <list>',
      'comma-separated statuses, e.g. open,escalated',
      commaListOf(INCIDENT_STATUSES),
    )
    .option('--service <name>', 'only this service')
    .option('--since <time>', 'opened at or after this ISO-8601 time', parseIsoTime)
    .option('--until <time>', 'opened before this ISO-8601 time', parseIsoTime)
    .option('--limit <n>', 'at most this many (1-1000)', parseLimit, 50)
    .option('--cursor <cursor>', 'continue after a previous page')
    .addOption(outputOption())
    .action(
      async (
        o: CommonOptions & {
          status?: string;
          service?: string;
          since?: string;
          until?: string;
          limit: number;
          cursor?: string;
        },
      ) => {
        assertOrdered({ flag: '--since', at: o.since }, { flag: '--until', at: o.until });
        const params = new URLSearchParams({ limit: String(o.limit) });
        if (o.status) params.set('status', o.status);
        if (o.service) params.set('service', o.service);
        if (o.since) params.set('from', o.since);
        if (o.until) params.set('to', o.until);
        if (o.cursor) params.set('cursor', o.cursor);
        const page = await client(cmd).request<{ items: Incident[]; nextCursor?: string }>(
          'GET',
          `/v1/incidents?${params}`,
          undefined,
          { expect: ['items'] },
        );
        if (o.output === 'json') return printJson(page);
        printTable(
          page.items.map((i) => ({ ...i, age: age(i.openedAt), alerts: `${i.firingCount}/${i.alertCount}` })),
          ['id', 'status', 'severity', 'service', 'namespace', 'alerts', 'age', 'title'],
        );
        if (page.nextCursor) process.stdout.write(`more: --cursor ${page.nextCursor}\n`);
      },
    );

  cmd
    .command('show')
    .description('one incident with its alerts and timeline')
    .argument('<id>')
    .addOption(outputOption())
    .action(async (id: string, o: CommonOptions) => {
      const detail = await client(cmd).request<{
        incident: Incident;
        alerts: IncidentAlert[];
        timeline: TimelineEntry[];
      }>('GET', `/v1/incidents/${encodeURIComponent(id)}`, undefined, {
        expect: ['incident', 'alerts', 'timeline'],
      });
      if (o.output === 'json') return printJson(detail);
      const i = detail.incident;
      process.stdout.write(`${i.id}  ${i.status}  ${i.severity}  ${i.title}\n`);
      process.stdout.write(`opened ${i.openedAt}  key ${i.correlationKey}\n\nALERTS\n`);
      printTable(
        detail.alerts.map((a) => ({ ...a, labels: a.labels })),
        ['fingerprint', 'alertname', 'status', 'startsAt'],
      );
      process.stdout.write('\nTIMELINE\n');
      printTable(detail.timeline, ['seq', 'at', 'actor', 'kind', 'description']);
    });

  for (const [name, path, description] of [
    ['ack', 'acknowledge', 'acknowledge an incident'],
    ['resolve', 'resolve', 'resolve an incident'],
  ] as const) {
    cmd
      .command(name)
      .description(description)
      .argument('<id>')
      .option('--comment <text>', 'recorded in the timeline')
      .option('--actor <name>', 'who is acting (recorded beside the token name)')
      .addOption(outputOption())
      .action(async (id: string, o: CommonOptions & { comment?: string; actor?: string }) => {
        const body = { ...(o.comment ? { comment: o.comment } : {}), ...(o.actor ? { actor: o.actor } : {}) };
        const result = await client(cmd).request<{ incident: Incident }>(
          'POST',
          `/v1/incidents/${encodeURIComponent(id)}/${path}`,
          body,
          { expect: ['incident'] },
        );
        if (o.output === 'json') return printJson(result);
        process.stdout.write(`${result.incident.id} is now ${result.incident.status}\n`);
      });
  }
  return cmd;
}

function age(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 90) return `${s}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  if (s < 129_600) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}
