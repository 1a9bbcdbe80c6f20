import { Command, InvalidArgumentError } from 'commander';
import type { StoredEvent } from '../../events/envelope.ts';
import { assertOrdered, parseIsoTime, parseLimit, readJsonFile } from '../args.ts';
import { clientFor as client } from '../client.ts';
import { printJson, printTable, type OutputFormat, outputOption } from '../output.ts';

/** PutEvents' own limit on entries per call; a longer file is sent in calls of this many. */
const ENTRIES_PER_CALL = 10;

type EntryResult = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

/** `rebound events list|show|put`: the event archive, and publishing events as PutEvents does. */
export function eventsCommand(): Command {
  const cmd = new Command('events').description(
    'list and show archived events, or publish events to the bus (talks to a running server)',
  );
  cmd
    .command('list')
    .description('archived events by their time, oldest first (or --newest-first)')
    .option('--since <time>', 'event time at or after this ISO-8601 time', parseIsoTime)
    .option('--until <time>', 'event time before this ISO-8601 time', parseIsoTime)
    .option('--limit <n>', 'at most this many (1-1000)', parseLimit, 50)
    .option('--cursor <cursor>', 'continue after a previous page')
    .option('--newest-first', 'the newest events first (the cursor then goes on to older ones)')
    .addOption(outputOption())
    .action(
      async (o: {
        since?: string;
        until?: string;
        limit: number;
        cursor?: string;
        newestFirst?: boolean;
        output: OutputFormat;
      }) => {
        assertOrdered({ flag: '--since', at: o.since }, { flag: '--until', at: o.until });
        const params = new URLSearchParams({ limit: String(o.limit) });
        if (o.since) params.set('from', o.since);
        if (o.until) params.set('to', o.until);
        if (o.cursor) params.set('cursor', o.cursor);
        if (o.newestFirst) params.set('order', 'desc');
        const page = await client(cmd).request<{ items: StoredEvent[]; nextCursor?: string }>(
          'GET',
          `/v1/events?${params}`,
          undefined,
          { expect: ['items'] },
        );
        if (o.output === 'json') return printJson(page);
        printTable(
          page.items.map(({ envelope: e }) => ({
            id: e.id,
            time: e.time,
            source: e.source,
            'detail-type': e['detail-type'],
            replay: e['replay-name'],
          })),
          ['id', 'time', 'source', 'detail-type', 'replay'],
        );
        if (page.nextCursor) process.stdout.write(`more: --cursor ${page.nextCursor}\n`);
      },
    );
  cmd
    .command('show')
    .description('one archived event: its envelope, correlation id and when Rebound received it')
    .argument('<id>')
    .action(async (id: string) =>
      printJson(await client(cmd).request('GET', `/v1/events/${encodeURIComponent(id)}`)),
    );
  cmd
    .command('put')
    .description(
      'publish events to the bus, as `aws events put-events --entries`: FILE holds a JSON array of entries ' +
        '{Source, DetailType, Detail (a JSON string), Time?, Resources?} (or {"Entries": [...]}), sent 10 per call; ' +
        "prints each entry's EventId or its error, exit 1 if any failed",
    )
    .requiredOption('--entries <file>', 'JSON file of PutEvents entries')
    .addOption(outputOption())
    .action(async (o: { entries: string; output: OutputFormat }) => {
      const entries = await readEntries(o.entries);
      const api = client(cmd);
      const results: EntryResult[] = [];
      for (let i = 0; i < entries.length; i += ENTRIES_PER_CALL) {
        const answer = await api.request<{ FailedEntryCount: number; Entries: EntryResult[] }>(
          'POST',
          '/v1/events',
          { Entries: entries.slice(i, i + ENTRIES_PER_CALL) },
          { expect: ['FailedEntryCount', 'Entries'] },
        );
        results.push(...answer.Entries);
      }
      const failed = results.filter((r) => 'ErrorCode' in r).length;
      if (o.output === 'json') printJson({ FailedEntryCount: failed, Entries: results });
      else
        printTable(
          results.map((r, entry) =>
            'EventId' in r
              ? { entry, eventId: r.EventId }
              : { entry, error: `${r.ErrorCode}: ${r.ErrorMessage}` },
          ),
          ['entry', 'eventId', 'error'],
        );
      if (failed > 0) {
        process.stderr.write(`${failed} of ${results.length} entries failed\n`);
        process.exitCode = 1;
      }
    });
  return cmd;
}

async function readEntries(file: string): Promise<unknown[]> {
  const value = await readJsonFile(file, '--entries');
  const entries =
    typeof value === 'object' && value !== null && !Array.isArray(value) && 'Entries' in value
      ? (value as { Entries: unknown }).Entries
      : value;
  if (!Array.isArray(entries) || entries.length === 0)
    throw new InvalidArgumentError(
      `--entries: ${file} holds no entries; expected a JSON array like ` +
        `[{"Source": "my.app", "DetailType": "Deployed", "Detail": "{\\"service\\": \\"checkout\\"}"}]`,
    );
  return entries;
}

/** `rebound rules list`: the bus rules in force, with their patterns and targets. */
export function rulesCommand(): Command {
  const cmd = new Command('rules').description('the bus rules in force (talks to a running server)');
  cmd
    .command('list')
    .description('every rule: enabled or not, its targets, and its pattern')
    .addOption(outputOption())
    .action(async (o: { output: OutputFormat }) => {
      const page = await client(cmd).request<{
        items: {
          name: string;
          enabled: boolean;
          pattern: unknown;
          targets: { name: string; kind: string }[];
        }[];
      }>('GET', '/v1/rules', undefined, { expect: ['items'] });
      if (o.output === 'json') return printJson(page);
      printTable(
        page.items.map((r) => ({
          ...r,
          targets: r.targets.map((t) => `${t.name} (${t.kind})`).join(', '),
        })),
        ['name', 'enabled', 'targets', 'pattern'],
      );
    });
  return cmd;
}
