import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isReboundError } from '../../src/errors.ts';
import { registerWorkflowRoutes } from '../../src/http/routes/workflows.ts';
import { loadRunbooks, WorkflowRegistry } from '../../src/workflows/registry.ts';
import { eventually } from '../support/http-receiver.ts';
import { Fixture } from './support.ts';

const exec = promisify(execFile);
const here = import.meta.dirname;
const cli = (args: string[]) =>
  exec(process.execPath, ['--import', 'tsx', join(here, 'cli-entry.ts'), ...args], {
    cwd: join(here, '../..'),
  });

describe('rebound workflow run (the conformance contract)', () => {
  it('prints one JSON object {status, output, error, cause, history}', async () => {
    const dir = join(here, 'fixtures');
    const inputFile = join(mkdtempSync(join(tmpdir(), 'rebound-cli-')), 'input.json');
    writeFileSync(inputFile, JSON.stringify({ a: 2, b: 3 }));
    const { stdout } = await cli([
      'workflow',
      'run',
      '--definition',
      join(dir, 'add.asl.json'),
      '--input',
      inputFile,
      '--task-handlers',
      join(dir, 'handlers.mjs'),
    ]);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(result).sort()).toEqual(['cause', 'error', 'history', 'output', 'status']);
    expect(result).toMatchObject({
      status: 'SUCCEEDED',
      output: { a: 2, b: 3, result: { sum: 5 }, restart: { restarted: 'web', key: true } },
      error: null,
      cause: null,
    });
    expect((result['history'] as { type: string }[])[0]).toMatchObject({
      id: 1,
      previousEventId: 0,
      type: 'ExecutionStarted',
    });
  }, 60_000);

  it('waits out Wait states and retry backoff (the engine timers hold no process open on their own)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rebound-cli-'));
    const definition = join(dir, 'wait.asl.json');
    writeFileSync(
      definition,
      JSON.stringify({
        StartAt: 'Pause',
        States: {
          Pause: { Type: 'Wait', Seconds: 1, Next: 'Flaky' },
          Flaky: {
            Type: 'Task',
            Resource: 'flaky',
            Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 1 }],
            End: true,
          },
        },
      }),
    );
    const handlers = join(dir, 'handlers.mjs');
    writeFileSync(
      handlers,
      'let calls = 0;\nexport default { flaky: () => { calls += 1; if (calls === 1) throw new Error("first"); return { calls }; } };\n',
    );
    const { stdout } = await cli([
      'workflow',
      'run',
      '--definition',
      definition,
      '--task-handlers',
      handlers,
    ]);
    const result = JSON.parse(stdout) as { status: string; output: unknown; history: { type: string }[] };
    expect(result).toMatchObject({ status: 'SUCCEEDED', output: { calls: 2 } });
    expect(result.history.map((e) => e.type)).toContain('WaitStateExited');
  }, 60_000);
});

describe('REST API and CLI against a real server', () => {
  let fx: Fixture;
  let app: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    fx = new Fixture({
      'k8s.restart': () => ({ ok: 1 }),
      'arn:aws:lambda:us-east-1:123456789012:function:add': () => 1,
      ask: () => null,
    });
    const registry = new WorkflowRegistry();
    await loadRunbooks(registry, join(here, 'fixtures'));
    registry.register('approval', {
      StartAt: 'Ask',
      States: {
        Ask: {
          Type: 'Task',
          Resource: 'ask.waitForTaskToken',
          Parameters: { 'token.$': '$$.Task.Token' },
          End: true,
        },
      },
    });
    fx.engine = fx.newEngine({ registry });
    await fx.engine.start();
    app = Fastify();
    app.setErrorHandler((err, _req, reply) => {
      if (isReboundError(err)) return reply.code(err.status).send(err.toJSON());
      return reply.code(500).send({ code: 'INTERNAL', message: String(err) });
    });
    registerWorkflowRoutes(app, {
      engine: fx.engine,
      registry,
      validation: { knownActions: new Set(['k8s.restart']) },
    });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app.close();
    await fx.close();
  });

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('lists, shows and validates workflows', async () => {
    const list = await api('GET', '/v1/workflows');
    expect((list.body['items'] as { name: string }[]).map((w) => w.name)).toEqual(['add', 'approval']);
    expect((await api('GET', '/v1/workflows/add')).body).toMatchObject({
      name: 'add',
      definition: { StartAt: 'Add' },
    });
    expect((await api('GET', '/v1/workflows/nope')).status).toBe(404);
    const bad = await api('POST', '/v1/workflows/validate', {
      definition: { StartAt: 'X', States: { X: { Type: 'Task', Resource: 'rebound:k8s.nuke', Next: 'Y' } } },
    });
    expect(bad.body['valid']).toBe(false);
    expect(bad.body['issues']).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'States.X.Next' }),
        expect.objectContaining({
          path: 'States.X.Resource',
          message: expect.stringContaining('not a known action'),
        }),
      ]),
    );
  });

  it('starts, shows, lists and fetches history of an execution; bad input is a 400', async () => {
    const started = await api('POST', '/v1/executions', {
      workflow: 'add',
      input: { a: 1, b: 1 },
      name: 'e1',
    });
    expect(started.status).toBe(201);
    const id = started.body['executionId'] as string;
    await fx.settle(id);
    const shown = await api('GET', `/v1/executions/${encodeURIComponent(id)}`);
    expect(shown.body).toMatchObject({ status: 'SUCCEEDED', workflow: 'add', input: { a: 1, b: 1 } });
    const history = await api('GET', `/v1/executions/${encodeURIComponent(id)}/history`);
    expect((history.body['events'] as { type: string }[]).at(-1)?.type).toBe('ExecutionSucceeded');
    expect((await api('GET', '/v1/executions?status=SUCCEEDED')).body['items']).toHaveLength(1);
    expect((await api('POST', '/v1/executions', { workflow: 'add', name: 'e1' })).status).toBe(409);
    expect((await api('POST', '/v1/executions', { input: {} })).status).toBe(400);
    expect((await api('GET', '/v1/executions?status=BOGUS')).status).toBe(400);
  });

  it('POST /v1/tasks/success for a task that already succeeded is a 409 saying so, and when', async () => {
    const started = await api('POST', '/v1/executions', { workflow: 'approval', name: 'twice' });
    const id = encodeURIComponent(started.body['executionId'] as string);
    let scheduled: Record<string, Record<string, string>> | undefined;
    await eventually(async () => {
      const { events } = (await api('GET', `/v1/executions/${id}/history`)).body as {
        events: Record<string, Record<string, string>>[];
      };
      scheduled = events.find((e) => (e['type'] as unknown as string) === 'TaskScheduled');
      return scheduled !== undefined;
    });
    const { token } = JSON.parse(scheduled!['taskScheduledEventDetails']!['parameters']!) as {
      token: string;
    };
    const first = await api('POST', '/v1/tasks/success', { taskToken: token, output: { approved: true } });
    expect(first).toEqual({ status: 200, body: { ok: true } });
    await fx.settle(decodeURIComponent(id));
    const second = await api('POST', '/v1/tasks/success', { taskToken: token, output: { approved: true } });
    expect(second.status).toBe(409);
    // `code` is Rebound's; Step Functions' exception name stays in the message, marked as a name, not a reason.
    expect(second.body).toEqual({
      code: 'ILLEGAL_TRANSITION',
      message: expect.stringMatching(
        /^task token already used: the task succeeded at \d{4}-\d\d-\d\dT[\d:.]+Z; the execution ended with SUCCEEDED at \d{4}-\d\d-\d\dT[\d:.]+Z \(Step Functions: TaskTimedOut\)$/,
      ),
    });
  });

  it('CLI: callback via `rebound task success`, stop via `rebound executions stop`, history table', async () => {
    const a = await api('POST', '/v1/executions', { workflow: 'approval', name: 'cb1' });
    const idA = a.body['executionId'] as string;
    await new Promise((r) => setTimeout(r, 50));
    const events = (await api('GET', `/v1/executions/${encodeURIComponent(idA)}/history`)).body[
      'events'
    ] as Record<string, Record<string, string>>[];
    const scheduled = events.find((e) => (e['type'] as unknown as string) === 'TaskScheduled')!;
    const token = (JSON.parse(scheduled['taskScheduledEventDetails']!['parameters']!) as { token: string })
      .token;
    await cli(['--url', url, 'task', 'success', token, '--task-output', '{"approved":true}']);
    await fx.settle(idA);
    expect((await api('GET', `/v1/executions/${encodeURIComponent(idA)}`)).body).toMatchObject({
      status: 'SUCCEEDED',
      output: { approved: true },
    });

    const b = await api('POST', '/v1/executions', { workflow: 'approval', name: 'cb2' });
    const idB = b.body['executionId'] as string;
    const { stdout } = await cli([
      '--url',
      url,
      'executions',
      'stop',
      idB,
      '--error',
      'Operator',
      '--cause',
      'manual',
    ]);
    expect(stdout).toContain('ABORTED');
    const hist = await cli(['--url', url, 'executions', 'history', idB]);
    expect(hist.stdout).toContain('ExecutionAborted');
    await expect(cli(['--url', url, 'task', 'success', token])).rejects.toMatchObject({
      stderr: expect.stringContaining('already'),
    });
  }, 180_000);
});
