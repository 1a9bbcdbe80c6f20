import { spawnSync } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { describeError, ReboundError } from '../../errors.ts';
import { HandlerRunner, type TaskHandler } from '../../workflows/local-runner.ts';
import type { Json, MachineDefinition } from '../../workflows/types.ts';
import { EXECUTION_STATUSES } from '../../workflows/statuses.ts';
import { validateDefinition } from '../../workflows/validate.ts';
import { parseLimit, readJsonFile, refuseNonFinite } from '../args.ts';
import { clientFor as client } from '../client.ts';
import { printJson, printTable, type OutputFormat, outputOption } from '../output.ts';

interface Out {
  output: OutputFormat;
}

const HANDLERS_SHAPE = 'an ES module default-exporting {resourceName: async (input, ctx) => output}';

/** Imports `--task-handlers`; every way it can fail names the file (and the line, when one is known). */
async function loadHandlers(path: string): Promise<Record<string, TaskHandler>> {
  if (/\.json$/i.test(path))
    throw new InvalidArgumentError(`--task-handlers ${path} is a JSON file; it must be ${HANDLERS_SHAPE}`);
  const file = resolve(path);
  try {
    await access(file, constants.R_OK);
  } catch (err) {
    throw new InvalidArgumentError(`--task-handlers: cannot read ${path}: ${describeError(err)}`);
  }
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (err) {
    throw new InvalidArgumentError(
      `--task-handlers: cannot load ${path}${lineOf(err, file)}: ${describeError(err)}`,
    );
  }
  const handlers = mod.default;
  if (typeof handlers !== 'object' || handlers === null) {
    throw new InvalidArgumentError(`--task-handlers ${path} must be ${HANDLERS_SHAPE}`);
  }
  for (const [name, fn] of Object.entries(handlers)) {
    if (typeof fn !== 'function')
      throw new InvalidArgumentError(`--task-handlers ${path}: the handler for '${name}' is not a function`);
  }
  return handlers as Record<string, TaskHandler>;
}

/**
 * " (line N)" for an error raised while importing `file`: an import-time throw has the line in its stack; a
 * syntax error has none, so `node --check` (which prints `file:N` first) is asked for it.
 */
function lineOf(err: unknown, file: string): string {
  let text = String((err as Error).stack ?? '');
  if (err instanceof SyntaxError && !text.includes(file)) {
    text = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 10_000 }).stderr ?? '';
  }
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const line = new RegExp(`${escaped}:(\\d+)`).exec(text)?.[1];
  return line ? ` (line ${line})` : '';
}

/**
 * `rebound workflow run`: runs one execution in-process on a temporary database and prints exactly one JSON
 * object `{status, output, error, cause, history}` — the conformance contract; keep it stable.
 */
export function workflowCommand(): Command {
  const cmd = new Command('workflow').description('run a state machine locally');
  cmd
    .command('run')
    .description(
      'run one execution to completion in-process and print {status, output, error, cause, history}',
    )
    .requiredOption('--definition <file>', 'ASL definition (JSON)')
    .option('--input <file>', 'execution input (JSON); default {}')
    .option(
      '--task-handlers <file>',
      'ES module default-exporting {resourceName: async (input, ctx) => output}',
    )
    .action(async (o: { definition: string; input?: string; taskHandlers?: string }) => {
      const definition = (await readJsonFile(o.definition, '--definition')) as MachineDefinition;
      const input = (o.input ? await readJsonFile(o.input, '--input') : {}) as Json;
      const handlers = o.taskHandlers ? await loadHandlers(o.taskHandlers) : {};
      // Loaded when run: the other commands start without the engine.
      const { runOnce } = await import('../../workflows/run-once.ts');
      const result = await runOnce(definition, input, {
        runner: new HandlerRunner(handlers, '--task-handlers'),
      });
      process.stdout.write(JSON.stringify(result) + '\n');
    });
  return cmd;
}

/** `rebound workflows list|show|validate` through the REST API (`validate --local` works offline). */
export function workflowsCommand(): Command {
  const cmd = new Command('workflows').description('registered workflow definitions (runbooks)');
  cmd
    .command('list')
    .description('list registered workflows')
    .addOption(outputOption())
    .action(async (o: Out) => {
      const r = await client(cmd).request<{ items: Record<string, unknown>[] }>(
        'GET',
        '/v1/workflows',
        undefined,
        {
          expect: ['items'],
        },
      );
      if (o.output === 'json') return printJson(r);
      printTable(r.items, ['name', 'states', 'startAt', 'source']);
    });
  cmd
    .command('show')
    .description('print a workflow definition')
    .argument('<name>')
    .action(async (name: string) => {
      printJson(await client(cmd).request('GET', `/v1/workflows/${encodeURIComponent(name)}`));
    });
  cmd
    .command('validate')
    .description('validate a definition file (by the server, which knows the installed actions, or --local)')
    .argument('<file>')
    .option('--local', 'validate offline: schema and structure, without checking action names')
    .action(async (file: string, o: { local?: boolean }) => {
      const definition = await readJsonFile(file, 'definition');
      const result = o.local
        ? { valid: false, issues: validateDefinition(definition) }
        : await client(cmd).request<{ valid: boolean; issues: { path: string; message: string }[] }>(
            'POST',
            '/v1/workflows/validate',
            { definition },
            { expect: ['valid', 'issues'] },
          );
      const valid = o.local ? result.issues.length === 0 : result.valid;
      if (valid) return void process.stdout.write(`${file}: valid\n`);
      for (const i of result.issues)
        process.stderr.write(`${file}: ${i.path || '(top level)'}: ${i.message}\n`);
      throw new ReboundError(
        'INVALID_DEFINITION',
        `${file} is not a valid state machine (${result.issues.length} ${result.issues.length === 1 ? 'issue' : 'issues'})`,
      );
    });
  return cmd;
}

/** `rebound executions start|list|show|history|stop|redrive` through the REST API. */
export function executionsCommand(): Command {
  const cmd = new Command('executions').description('workflow executions (talks to a running server)');
  cmd
    .command('start')
    .description('start an execution of a registered workflow')
    .argument('<workflow>')
    .option('--input <file>', 'input JSON file')
    .option('--name <name>', 'execution name (unique)')
    .addOption(outputOption())
    .action(async (workflow: string, o: Out & { input?: string; name?: string }) => {
      const input = o.input ? await readJsonFile(o.input, '--input') : {};
      const r = await client(cmd).request<Record<string, unknown>>(
        'POST',
        '/v1/executions',
        {
          workflow,
          input,
          ...(o.name ? { name: o.name } : {}),
        },
        { expect: ['executionId'] },
      );
      if (o.output === 'json') return printJson(r);
      process.stdout.write(`${String(r['executionId'])}\n`);
    });
  cmd
    .command('list')
    .description('list executions, newest first')
    .addOption(new Option('--status <status>', 'only executions in this state').choices(EXECUTION_STATUSES))
    .option('--limit <n>', 'at most this many (1-1000)', parseLimit, 50)
    .option('--cursor <cursor>', 'continue after a previous page')
    .addOption(outputOption())
    .action(async (o: Out & { status?: string; limit: number; cursor?: string }) => {
      const params = new URLSearchParams({ limit: String(o.limit) });
      if (o.status) params.set('status', o.status);
      if (o.cursor) params.set('cursor', o.cursor);
      const page = await client(cmd).request<{ items: Record<string, unknown>[]; nextCursor?: string }>(
        'GET',
        `/v1/executions?${params}`,
        undefined,
        { expect: ['items'] },
      );
      if (o.output === 'json') return printJson(page);
      printTable(page.items, ['executionId', 'status', 'startDate', 'stopDate', 'error']);
      if (page.nextCursor) process.stdout.write(`more: --cursor ${page.nextCursor}\n`);
    });
  cmd
    .command('show')
    .description('one execution with its input and output')
    .argument('<id>')
    .action(async (id: string) =>
      printJson(await client(cmd).request('GET', `/v1/executions/${encodeURIComponent(id)}`)),
    );
  cmd
    .command('history')
    .description('the execution history (Step Functions event names)')
    .argument('<id>')
    .addOption(outputOption())
    .action(async (id: string, o: Out) => {
      const r = await client(cmd).request<{ events: Record<string, unknown>[] }>(
        'GET',
        `/v1/executions/${encodeURIComponent(id)}/history`,
        undefined,
        { expect: ['events'] },
      );
      if (o.output === 'json') return printJson(r);
      printTable(
        r.events.map((e) => ({ ...e, name: detailsName(e) })),
        ['id', 'previousEventId', 'timestamp', 'type', 'name'],
      );
    });
  cmd
    .command('stop')
    .description('stop a running execution (tasks are cancelled; history records ExecutionAborted)')
    .argument('<id>')
    .option('--error <code>', 'error recorded in ExecutionAborted')
    .option('--cause <text>', 'cause recorded in ExecutionAborted')
    .action(async (id: string, o: { error?: string; cause?: string }) => {
      const body = { ...(o.error ? { error: o.error } : {}), ...(o.cause ? { cause: o.cause } : {}) };
      const r = await client(cmd).request<Record<string, unknown>>(
        'POST',
        `/v1/executions/${encodeURIComponent(id)}/stop`,
        body,
        { expect: ['status'] },
      );
      process.stdout.write(`${id} is now ${String(r['status'])}\n`);
    });
  cmd
    .command('redrive')
    .description('redrive a FAILED, TIMED_OUT or ABORTED execution from where it failed')
    .argument('<id>')
    .action(async (id: string) => {
      const r = await client(cmd).request<Record<string, unknown>>(
        'POST',
        `/v1/executions/${encodeURIComponent(id)}/redrive`,
        {},
        { expect: ['status'] },
      );
      process.stdout.write(`${id} is now ${String(r['status'])} (redrive ${String(r['redriveCount'])})\n`);
    });
  return cmd;
}

function detailsName(event: Record<string, unknown>): unknown {
  const details = Object.entries(event).find(([k]) => k.endsWith('EventDetails'))?.[1] as
    Record<string, unknown> | undefined;
  return details?.['name'];
}

/** `rebound task success|failure|heartbeat` for callback (`.waitForTaskToken`) tasks. */
export function taskCommand(): Command {
  const cmd = new Command('task').description('answer callback tasks (SendTaskSuccess/Failure/Heartbeat)');
  cmd
    .command('success')
    .description('complete the waiting task with an output (SendTaskSuccess)')
    .argument('<token>', 'the task token the execution handed out')
    // As `aws stepfunctions send-task-success --task-output`; `--output` is the output format elsewhere.
    .option('--task-output <json>', 'task output as JSON text', '{}')
    .action(async (token: string, o: { taskOutput: string }) => {
      let output: unknown;
      try {
        output = JSON.parse(o.taskOutput);
      } catch (err) {
        // A usage error (exit 2), like a bad --params of `action run`.
        throw new InvalidArgumentError(
          `--task-output is not JSON (${(err as Error).message}); e.g. --task-output '{"approved":true}'`,
        );
      }
      refuseNonFinite(o.taskOutput, output, '--task-output');
      await client(cmd).request('POST', '/v1/tasks/success', { taskToken: token, output });
      process.stdout.write('ok\n');
    });
  cmd
    .command('failure')
    .description('fail the waiting task; its Retry and Catch apply (SendTaskFailure)')
    .argument('<token>', 'the task token the execution handed out')
    .option('--error <code>', 'error name the Retry/Catch fields match')
    .option('--cause <text>', 'human-readable cause')
    .action(async (token: string, o: { error?: string; cause?: string }) => {
      await client(cmd).request('POST', '/v1/tasks/failure', {
        taskToken: token,
        ...(o.error ? { error: o.error } : {}),
        ...(o.cause ? { cause: o.cause } : {}),
      });
      process.stdout.write('ok\n');
    });
  cmd
    .command('heartbeat')
    .description(
      'report the task is still being worked on, restarting its HeartbeatSeconds (SendTaskHeartbeat)',
    )
    .argument('<token>', 'the task token the execution handed out')
    .action(async (token: string) => {
      await client(cmd).request('POST', '/v1/tasks/heartbeat', { taskToken: token });
      process.stdout.write('ok\n');
    });
  return cmd;
}
