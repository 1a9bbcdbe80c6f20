import { Command, InvalidArgumentError } from 'commander';
import type { AutomationView, PauseView, ResumeResult } from '../../guard/views.ts';
import { parseDurationMs } from '../../guard/config.ts';
import { clientFor as client } from '../client.ts';
import { printJson, printTable, type OutputFormat, outputOption } from '../output.ts';

interface CommonOptions {
  output: OutputFormat;
}

/** Parses `k=v,k2=v2` into label matchers. */
export function parseMatch(text: string): Record<string, string> {
  const match: Record<string, string> = {};
  for (const pair of text.split(',').filter((p) => p.trim() !== '')) {
    const eq = pair.indexOf('=');
    if (eq <= 0 || eq === pair.length - 1) {
      throw new InvalidArgumentError(`"${pair}" is not k=v (e.g. --match cluster=prod,namespace=shop)`);
    }
    match[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return match;
}

/** Parses `--until` as an ISO-8601 time or a duration from now (`90m`, `2h`, `1d`); returns ISO. */
export function parseUntil(text: string, now: Date = new Date()): string {
  const ms = parseDurationMs(text);
  if (ms !== undefined) return isoTime(now.getTime() + ms, text);
  const at = Date.parse(text);
  if (Number.isNaN(at) || !/^\d{4}-\d{2}-\d{2}T/.test(text)) {
    throw new InvalidArgumentError(
      `"${text}" is neither an ISO-8601 time (2026-01-31T18:00:00Z) nor a duration (2h)`,
    );
  }
  return new Date(at).toISOString();
}

/** The ISO-8601 form of a time in Unix milliseconds that `text` (a duration) gave; refuses one past what a
 * date can hold. */
export function isoTime(ms: number, text: string): string {
  const at = new Date(ms);
  if (Number.isNaN(at.getTime())) throw new InvalidArgumentError(`"${text}" is too far from now for a date`);
  return at.toISOString();
}

/** `rebound automation status | pause | resume`, through the REST API of a running server. */
export function automationCommand(): Command {
  const cmd = new Command('automation').description(
    'see and steer automation: circuit breakers, pauses (maintenance windows), budgets, locks',
  );

  addStatus(cmd);
  addPause(cmd);
  addResume(cmd);
  return cmd;
}

function addStatus(cmd: Command): void {
  cmd
    .command('status')
    .description('shadow mode, open breakers, active pauses, budgets in use and held locks')
    .addOption(outputOption())
    .action(async (o: CommonOptions) => {
      const status = await client(cmd).request<AutomationView>('GET', '/v1/automation', undefined, {
        expect: ['mode', 'shadow', 'breakers', 'pauses', 'budgets', 'locks'],
      });
      if (o.output === 'json') return printJson(status);
      printStatus(status);
    });
}

function addPause(cmd: Command): void {
  cmd
    .command('pause')
    .description('stop mutating actions that match (all of them without --match) until resumed or --until')
    .option(
      '--match <k=v,...>',
      'matchers: cluster, namespace, kind, name, runbook or any incident label',
      parseMatch,
    )
    .option('--until <time>', 'end of the window: ISO-8601 time or a duration from now (90m, 2h)', (t) =>
      parseUntil(t),
    )
    .option('--reason <text>', 'shown in refusals, status and the incident timeline')
    .addOption(outputOption())
    .action(
      async (o: CommonOptions & { match?: Record<string, string>; until?: string; reason?: string }) => {
        const body = {
          ...(o.match ? { match: o.match } : {}),
          ...(o.until ? { until: o.until } : {}),
          ...(o.reason ? { reason: o.reason } : {}),
        };
        const { pause } = await client(cmd).request<{ pause: PauseView }>(
          'POST',
          '/v1/automation/pause',
          body,
          { expect: ['pause'] },
        );
        if (o.output === 'json') return printJson({ pause });
        process.stdout.write(
          `paused ${matchText(pause.match)} ${pause.until ? `until ${pause.until}` : 'until resumed'}`,
        );
        process.stdout.write(` (id ${pause.id})\n`);
      },
    );
}

function addResume(cmd: Command): void {
  cmd
    .command('resume')
    .description('lift pauses and reset circuit breakers (admin role): all of them, one scope, or one pause')
    .option('--scope <scope>', 'cluster or cluster/namespace: reset its breaker and lift pauses made for it')
    .option('--pause-id <id>', 'lift this pause only')
    .addOption(outputOption())
    .action(async (o: CommonOptions & { scope?: string; pauseId?: string }) => {
      const body = { ...(o.scope ? { scope: o.scope } : {}), ...(o.pauseId ? { pauseId: o.pauseId } : {}) };
      const result = await client(cmd).request<ResumeResult>('POST', '/v1/automation/resume', body, {
        expect: ['resetBreakers', 'removedPauses'],
      });
      if (o.output === 'json') return printJson(result);
      const breakers = result.resetBreakers.length === 0 ? 'none' : result.resetBreakers.join(', ');
      process.stdout.write(`breakers reset: ${breakers}\n`);
      process.stdout.write(`pauses lifted: ${result.removedPauses.map((p) => p.id).join(', ') || 'none'}\n`);
    });
}

function matchText(match: Readonly<Record<string, string>>): string {
  const text = Object.entries(match)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return text || 'everything';
}

function printStatus(status: AutomationView): void {
  const out = (line: string): void => void process.stdout.write(line + '\n');
  const shadow = status.shadow.global ? 'global' : status.shadow.runbooks.join(', ') || 'off';
  out(status.mode.message);
  if (status.mode.missing?.length) out(`to act for real, configure: ${status.mode.missing.join(', ')}`);
  out(`shadow mode: ${shadow}`);
  out('\nBREAKERS');
  printTable(
    status.breakers.map((b) => ({
      ...b,
      successRate: b.successRate === undefined ? undefined : `${b.successRate * 100}%`,
    })),
    ['scope', 'state', 'successRate', 'outcomes', 'openedAt', 'reason'],
  );
  out('\nPAUSES');
  printTable(
    status.pauses.map((p) => ({ ...p, match: matchText(p.match), until: p.until ?? 'resumed' })),
    ['id', 'match', 'until', 'reason', 'createdBy'],
  );
  out('\nBUDGETS');
  printTable(
    status.budgets.map((b) => ({ ...b })),
    ['target', 'used', 'limit', 'nextSlotAt'],
  );
  out('\nLOCKS');
  printTable(status.locks, ['target', 'owner', 'expiresAt']);
}
