import { Command, InvalidArgumentError } from 'commander';
import type { StoredEvent } from '../../events/envelope.ts';
import { assertOrdered, parseIsoTime, parseLimit, readJsonFile } from '../args.ts';
import { ApiError, clientFor as client, type ApiClient } from '../client.ts';
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
        "prints each entry's EventId or its error, exit 1 if any failed; a call refused as a whole stops " +
        'there, its entries and those after it reported as not stored',
    )
    .requiredOption('--entries <file>', 'JSON file of PutEvents entries')
    .addOption(outputOption())
    .action(async (o: { entries: string; output: OutputFormat }) => {
      const entries = await readEntries(o.entries);
      const { results, failedCall } = await putInCalls(client(cmd), entries);
      // What was stored is printed even when a later call failed: its EventIds are the only record of it, and a
      // user who does not see them sends those entries twice (PutEvents has no dedup).
      if (failedCall) results.push(...unsentResults(failedCall, entries.length));
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
      if (failedCall) process.stderr.write(describeFailedCall(failedCall, entries.length));
      if (failed > 0) {
        process.stderr.write(`${failed} of ${results.length} entries failed\n`);
        process.exitCode = 1;
      }
    });
  return cmd;
}

/** A PutEvents call that failed as a whole: the file's entries `first`..`last` it carried, and why. */
interface FailedCall {
  readonly first: number;
  readonly last: number;
  /** The server's error, its path naming the entry by its index in the file. */
  readonly error: ApiError;
}

/**
 * Sends the entries in calls of ENTRIES_PER_CALL, in order, and stops at the first call that fails as a whole
 * (the entries not stored are then the file's tail, which the user can send again once it is fixed). A first
 * call that fails throws: nothing was stored.
 */
async function putInCalls(
  api: ApiClient,
  entries: readonly unknown[],
): Promise<{ results: EntryResult[]; failedCall?: FailedCall }> {
  const results: EntryResult[] = [];
  for (let first = 0; first < entries.length; first += ENTRIES_PER_CALL) {
    const batch = entries.slice(first, first + ENTRIES_PER_CALL);
    try {
      const answer = await api.request<{ FailedEntryCount: number; Entries: EntryResult[] }>(
        'POST',
        '/v1/events',
        { Entries: batch },
        { expect: ['FailedEntryCount', 'Entries'] },
      );
      results.push(...answer.Entries);
    } catch (err) {
      // Before anything was stored, the error is the whole story, as for any command.
      if (!(err instanceof ApiError) || first === 0) throw err;
      return { results, failedCall: { first, last: first + batch.length - 1, error: inFile(err, first) } };
    }
  }
  return { results };
}

/**
 * The error of a call whose entries start at `first` in the file, with the entry it names renumbered as the
 * file numbers it (`body.Entries[5].Source` of the second call is `body.Entries[15].Source`).
 */
function inFile(err: ApiError, first: number): ApiError {
  const index = entryIndex(err.path);
  if (index === undefined) return err;
  const path = err.path!.replace(/^Entries\[\d+\]/, `Entries[${first + index}]`);
  // The server's message begins with the path it names under `body`; anything else is left as it is.
  const message = err.message.startsWith(`body.${err.path!}`)
    ? `body.${path}${err.message.slice(`body.${err.path!}`.length)}`
    : err.message;
  return new ApiError(err.status, err.code, message, path);
}

/** Whether a failed call certainly stored nothing: the server refused it (4xx), so it wrote none of it. */
function refused(call: FailedCall): boolean {
  return call.error.status >= 400 && call.error.status < 500;
}

/** What the entries from the failed call on became, one result per entry, as PutEvents reports a failed one. */
function unsentResults(call: FailedCall, total: number): EntryResult[] {
  const range = entryRange(call.first, call.last);
  const culprit = entryIndex(call.error.path);
  const results: EntryResult[] = [];
  for (let entry = call.first; entry < total; entry++) {
    if (entry > call.last)
      results.push({ ErrorCode: 'NotSent', ErrorMessage: `not sent: the call with ${range} failed` });
    else if (refused(call))
      results.push({
        ErrorCode: 'CallRefused',
        ErrorMessage:
          entry === culprit
            ? `not stored: ${call.error.message} (${call.error.code})`
            : `not stored: the server refused the call with ${range} (${call.error.code})`,
      });
    else
      results.push({
        ErrorCode: 'OutcomeUnknown',
        ErrorMessage: `maybe stored: the call with ${range} got no answer saying so (${call.error.code})`,
      });
  }
  return results;
}

/** The lines on stderr that say which entries were not stored, and why (the server's message in full). */
function describeFailedCall(call: FailedCall, total: number): string {
  const range = entryRange(call.first, call.last);
  const why = `${call.error.message} (${call.error.code})`;
  let text = refused(call)
    ? `error: ${range} not stored: the server refused their call: ${why}\n`
    : `error: ${range} may or may not have been stored: ${why}; ` +
      'look for them with `rebound events list` before sending them again\n';
  if (call.last + 1 < total)
    text += `error: ${entryRange(call.last + 1, total - 1)} not sent: sending stops at a failed call\n`;
  return text;
}

/** The entry a server error's path names (`Entries[5].Source` → 5), if it names one. */
function entryIndex(path: string | undefined): number | undefined {
  const at = path === undefined ? undefined : /^Entries\[(\d+)\]/.exec(path);
  return at ? Number(at[1]) : undefined;
}

function entryRange(first: number, last: number): string {
  return first === last ? `entry ${first}` : `entries ${first}-${last}`;
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
