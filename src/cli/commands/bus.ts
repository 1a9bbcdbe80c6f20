import { Command, InvalidArgumentError } from 'commander';
import type { ReplayProgress } from '../../http/views.ts';
import type { DeadLetter } from '../../bus/port.ts';
import { assertOrdered, parseIsoTime, parseLimit, parsePositiveInteger, readJsonFile } from '../args.ts';
import { clientFor as client } from '../client.ts';
import { printJson, printTable, type OutputFormat, outputOption } from '../output.ts';

/** `rebound dlq list|show|redrive|delete`: the dead-letter queue of the bus. */
export function dlqCommand(): Command {
  const cmd = new Command('dlq').description(
    'inspect, redrive and delete dead letters (talks to a running server)',
  );
  cmd
    .command('list')
    .description('dead letters, oldest first')
    .option('--target <rule/id>', 'only this target')
    .option('--since <time>', 'failed at or after this ISO-8601 time', parseIsoTime)
    .option('--limit <n>', 'at most this many (1-1000)', parseLimit, 100)
    .addOption(outputOption())
    .action(async (o: { target?: string; since?: string; limit: number; output: OutputFormat }) => {
      const params = new URLSearchParams({ limit: String(o.limit) });
      if (o.target) params.set('target', o.target);
      if (o.since) params.set('since', o.since);
      const page = await client(cmd).request<{ items: DeadLetter[] }>('GET', `/v1/dlq?${params}`, undefined, {
        expect: ['items'],
      });
      if (o.output === 'json') return printJson(page);
      printTable(page.items, ['id', 'target', 'attempts', 'failedAt', 'eventId', 'error']);
    });
  cmd
    .command('show')
    .description('one dead letter with its event')
    .argument('<id>')
    .action(async (id: string) =>
      printJson(await client(cmd).request('GET', `/v1/dlq/${encodeURIComponent(id)}`)),
    );
  cmd
    .command('redrive')
    .description('re-deliver dead letters (all, or those of a target / since a time, or the given ids)')
    .argument('[ids...]', 'dead-letter ids')
    .option('--target <rule/id>', 'only this target')
    .option('--since <time>', 'failed at or after this ISO-8601 time', parseIsoTime)
    .action(async (ids: string[], o: { target?: string; since?: string }) => {
      const body = {
        ...(ids.length ? { ids: ids.map((id) => parsePositiveInteger(id, 'dead-letter id')) } : {}),
        ...(o.target ? { target: o.target } : {}),
        ...(o.since ? { since: o.since } : {}),
      };
      const { redriven } = await client(cmd).request<{ redriven: number }>('POST', '/v1/dlq/redrive', body, {
        expect: ['redriven'],
      });
      process.stdout.write(`${redriven} dead letter(s) queued for delivery again\n`);
    });
  cmd
    .command('delete')
    .description(
      'delete dead letters without delivering them (the given ids, those of a target / since a time, or --all); ' +
        'their events stay in the archive (bus.archiveRetentionDays), where a replay of the rule can deliver them again',
    )
    .argument('[ids...]', 'dead-letter ids')
    .option('--target <rule/id>', 'only this target')
    .option('--since <time>', 'failed at or after this ISO-8601 time', parseIsoTime)
    .option('--all', 'every dead letter (needed when no ids, --target or --since narrow it)')
    .action(async (ids: string[], o: { target?: string; since?: string; all?: boolean }) => {
      if (ids.length === 0 && !o.target && !o.since && !o.all)
        throw new InvalidArgumentError(
          'name the dead letters to delete: ids, --target or --since (or --all)',
        );
      if (ids.length > 0 && (o.target || o.since || o.all))
        throw new InvalidArgumentError(
          'ids name the dead letters on their own: leave out --target, --since and --all',
        );
      const body = {
        ...(ids.length ? { ids: ids.map((id) => parsePositiveInteger(id, 'dead-letter id')) } : {}),
        ...(o.target ? { target: o.target } : {}),
        ...(o.since ? { since: o.since } : {}),
        ...(o.all ? { all: true } : {}),
      };
      const { deleted } = await client(cmd).request<{ deleted: number }>('POST', '/v1/dlq/delete', body, {
        expect: ['deleted'],
      });
      process.stdout.write(`${deleted} dead letter(s) deleted\n`);
    });
  return cmd;
}

/** `rebound replay`: re-publishes archived events to the rules, with a progress bar and a summary. */
export function replayCommand(): Command {
  const cmd = new Command('replay')
    .description('replay archived events in a time range through the rules (marked as replays)')
    .requiredOption('--from <time>', 'start, ISO-8601 (inclusive)', parseIsoTime)
    .requiredOption('--to <time>', 'end, ISO-8601 (exclusive)', parseIsoTime)
    .option('--pattern <file>', 'only events that also match this EventBridge pattern (JSON file)')
    .option('--rule <name>', "only this rule's targets")
    .option('--dry-run', 'count what would be replayed, deliver nothing')
    .option('--name <name>', 'a name for the replay (shown to targets as replay-name)')
    .action(
      async (o: {
        from: string;
        to: string;
        pattern?: string;
        rule?: string;
        dryRun?: boolean;
        name?: string;
      }) => {
        assertOrdered({ flag: '--from', at: o.from }, { flag: '--to', at: o.to });
        const pattern = o.pattern === undefined ? undefined : await readPattern(o.pattern);
        const api = client(cmd);
        const expect = { expect: ['id', 'state'] };
        let progress = await api.request<ReplayProgress>(
          'POST',
          '/v1/replays',
          {
            from: o.from,
            to: o.to,
            dryRun: Boolean(o.dryRun),
            ...(pattern ? { pattern } : {}),
            ...(o.rule ? { rule: o.rule } : {}),
            ...(o.name ? { name: o.name } : {}),
          },
          expect,
        );
        const tty = process.stderr.isTTY;
        while (progress.state === 'running') {
          if (tty) process.stderr.write(`\r${bar(progress)}`);
          await new Promise((r) => setTimeout(r, 200));
          // Each poll has its own --timeout, so a long replay is never cut short by it.
          progress = await api.request<ReplayProgress>(
            'GET',
            `/v1/replays/${encodeURIComponent(progress.id)}`,
            undefined,
            expect,
          );
        }
        if (tty) process.stderr.write(`\r${bar(progress)}\n`);
        if (progress.state === 'failed') throw new Error(`replay ${progress.id} failed: ${progress.error}`);
        const verb = progress.dryRun ? 'would deliver' : 'queued';
        process.stdout.write(
          `replay ${progress.id}: scanned ${progress.scanned} event(s), ${progress.matched} matched, ${verb} ${progress.deliveries} deliveries\n`,
        );
      },
    );
  return cmd;
}

/** Reads `--pattern FILE`: an EventBridge pattern is a JSON object; anything else is a usage error. */
async function readPattern(file: string): Promise<Record<string, unknown>> {
  const value = await readJsonFile(file, '--pattern');
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const what = Array.isArray(value) ? 'an array' : JSON.stringify(value);
    throw new InvalidArgumentError(
      `--pattern: ${file} holds ${what}; an event pattern is a JSON object, e.g. {"source": ["rebound.alertmanager"]}`,
    );
  }
  return value as Record<string, unknown>;
}

function bar(p: ReplayProgress): string {
  const width = 30;
  const ratio = p.total > 0 ? Math.min(1, p.scanned / p.total) : 1;
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.scanned}/${p.total} scanned, ${p.matched} matched`;
}

/** `rebound reload`: re-reads the server's configuration and reloads bus rules (same as SIGHUP). */
export function reloadCommand(): Command {
  const cmd = new Command('reload').description(
    'make the server re-read its configuration: rules and API/webhook tokens take effect; other changed settings are named (they need a restart)',
  );
  cmd.action(async () => {
    const { rules, restartNeeded } = await client(cmd).request<{ rules: number; restartNeeded?: string[] }>(
      'POST',
      '/v1/admin/reload',
      undefined,
      { expect: ['rules'] },
    );
    process.stdout.write(`reloaded: ${rules} rule(s) in force\n`);
    if (restartNeeded && restartNeeded.length > 0)
      process.stdout.write(`not applied until a restart (read only at start): ${restartNeeded.join(', ')}\n`);
  });
  return cmd;
}
