import { Command, Option } from 'commander';
import type { Approval, Decision } from '../../approvals/model.ts';
import { ApiClient, type ApiOptions } from '../client.ts';
import { printJson, printTable, type OutputFormat } from '../output.ts';

interface CommonOptions extends ApiOptions {
  output: OutputFormat;
}

const outputOption = () =>
  new Option('-o, --output <format>', 'table or json').choices(['table', 'json']).default('table');

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
    .option('--limit <n>', 'at most this many', '50')
    .addOption(outputOption())
    .action(async (o: CommonOptions & { status: string; limit: string }) => {
      const params = new URLSearchParams({ status: o.status, limit: o.limit });
      const page = await client(cmd).request<{ items: Approval[] }>('GET', `/v1/approvals?${params}`);
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
      const approval = await client(cmd).request<Approval>('GET', `/v1/approvals/${encodeURIComponent(id)}`);
      if (o.output === 'json') return printJson(approval);
      printTable([approval], COLUMNS);
    });

  cmd
    .command('snooze')
    .description('ask again later: the runbook waits (10 minutes by default), then requests a new approval')
    .argument('<id>', 'approval id (apr-…)')
    .option('--seconds <n>', 'how long to snooze', '600')
    .addOption(outputOption())
    .action(async (id: string, o: CommonOptions & { seconds: string }) => {
      const seconds = Number(o.seconds);
      if (!Number.isInteger(seconds) || seconds < 1 || seconds > 86_400)
        cmd.error('--seconds must be a whole number from 1 to 86400', { exitCode: 2 });
      await decide(cmd, id, 'snooze', o, seconds);
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
  );
  if (o.output === 'json') return printJson(approval);
  process.stdout.write(
    `${approval.id}: ${approval.decision} by ${approval.decidedBy}; the runbook resumes\n`,
  );
}

function client(cmd: Command): ApiClient {
  const globals = cmd.optsWithGlobals<ApiOptions>();
  return new ApiClient({
    ...(globals.url ? { url: globals.url } : {}),
    ...(globals.token ? { token: globals.token } : {}),
  });
}
