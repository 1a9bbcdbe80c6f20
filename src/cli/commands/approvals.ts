import { Command, InvalidArgumentError, Option } from 'commander';
import type { Approval, Decision } from '../../approvals/model.ts';
import { parseLimit } from '../args.ts';
import { clientFor as client, type ApiOptions } from '../client.ts';
import { printJson, printTable, type OutputFormat, outputOption } from '../output.ts';

interface CommonOptions extends ApiOptions {
  output: OutputFormat;
}

const COLUMNS = [
  'id',
  'status',
  'decision',
  'decidedBy',
  'via',
  'runbook',
  'incidentId',
  'expiresAt',
  'summary',
];

/** `rebound approvals list|show|snooze`, through the REST API of a running server. */
export function approvalsCommand(): Command {
  const cmd = new Command('approvals').description(
    'approvals runbooks wait for; decide with `rebound approve|deny ID`',
  );

  cmd
    .command('list')
    .description('approvals, newest first (pending ones by default)')
    .addOption(
      new Option('--status <status>', 'which ones')
        .choices(['pending', 'decided', 'expired', 'all'])
        .default('pending'),
    )
    .option('--limit <n>', 'at most this many (1-1000)', parseLimit, 50)
    .addOption(outputOption())
    .action(async (o: CommonOptions & { status: string; limit: number }) => {
      const params = new URLSearchParams({ status: o.status, limit: String(o.limit) });
      const page = await client(cmd).request<{ items: Approval[] }>(
        'GET',
        `/v1/approvals?${params}`,
        undefined,
        {
          expect: ['items'],
        },
      );
      if (o.output === 'json') return printJson(page);
      if (page.items.length === 0) {
        process.stdout.write(`no ${o.status === 'all' ? '' : `${o.status} `}approvals\n`);
        return;
      }
      printTable(page.items, COLUMNS);
    });

  cmd
    .command('show')
    .description('one approval')
    .argument('<id>', 'approval id (apr-…)')
    .addOption(outputOption())
    .action(async (id: string, o: CommonOptions) => {
      const approval = await client(cmd).request<Approval>(
        'GET',
        `/v1/approvals/${encodeURIComponent(id)}`,
        undefined,
        { expect: ['id'] },
      );
      if (o.output === 'json') return printJson(approval);
      printTable([approval], COLUMNS);
    });

  cmd
    .command('snooze')
    .description('ask again later: the runbook waits (10 minutes by default), then requests a new approval')
    .argument('<id>', 'approval id (apr-…)')
    .option('--seconds <n>', 'how long to snooze (1-86400)', parseSnoozeSeconds, 600)
    .addOption(outputOption())
    .action(async (id: string, o: CommonOptions & { seconds: number }) => {
      await decide(cmd, id, 'snooze', o, o.seconds);
    });
  return cmd;
}

/** `rebound approve ID`: remediate now. */
export function approveCommand(): Command {
  const cmd = new Command('approve')
    .description('approve a pending approval: the runbook remediates now')
    .argument('<id>', 'approval id (apr-…); see `rebound approvals list`')
    .addOption(outputOption());
  return cmd.action(async (id: string, o: CommonOptions) => decide(cmd, id, 'remediate', o));
}

/** `rebound deny ID`: skip the remediation. */
export function denyCommand(): Command {
  const cmd = new Command('deny')
    .description('deny a pending approval: the runbook skips the remediation')
    .argument('<id>', 'approval id (apr-…); see `rebound approvals list`')
    .addOption(outputOption());
  return cmd.action(async (id: string, o: CommonOptions) => decide(cmd, id, 'skip', o));
}

async function decide(
  cmd: Command,
  id: string,
  decision: Decision,
  o: CommonOptions,
  snoozeSeconds?: number,
): Promise<void> {
  const approval = await client(cmd).request<Approval>(
    'POST',
    `/v1/approvals/${encodeURIComponent(id)}/decision`,
    { decision, via: 'cli', ...(snoozeSeconds === undefined ? {} : { snoozeSeconds }) },
    { expect: ['id'] },
  );
  if (o.output === 'json') return printJson(approval);
  process.stdout.write(
    `${approval.id}: ${approval.decision} by ${approval.decidedBy}; the runbook resumes\n`,
  );
}

function parseSnoozeSeconds(text: string): number {
  const seconds = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!(seconds >= 1 && seconds <= 86_400))
    throw new InvalidArgumentError('expected a whole number from 1 to 86400');
  return seconds;
}
