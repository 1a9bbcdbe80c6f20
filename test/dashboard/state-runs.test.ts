import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stateRuns } from '../../web/src/runbook/runs.ts';
import { stateTree } from '../../web/src/runbook/states.ts';
import type { AslDefinition, HistoryEvent } from '../../web/src/types.ts';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { eventually, HttpReceiver } from '../support/http-receiver.ts';

// How the execution graph reads a history (web/src/runbook/runs.ts), on histories the real engine wrote:
// a Retry, a Catch, a redrive, a branch stopped by its sibling's failure. The browser tests draw the rest.

describe('the execution graph reading a history', () => {
  let t: TestApp;
  const receiver = new HttpReceiver();

  const call = async (method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) => {
    const res = await t.app.http.inject({ method, url, ...(payload === undefined ? {} : { payload }) });
    return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
  };
  /** Waits for execution `id` of `definition` to end, then reads the graph from its history. */
  const graphOf = async (definition: AslDefinition, id: string) => {
    await eventually(async () => (await call('GET', `/v1/executions/${id}`)).body['status'] !== 'RUNNING');
    const { events } = (await call('GET', `/v1/executions/${id}/history`)).body as { events: HistoryEvent[] };
    const status = (await call('GET', `/v1/executions/${id}`)).body['status'] as string;
    return { status, runs: stateRuns(stateTree(definition), events, status), events };
  };
  const start = async (definition: AslDefinition, input: unknown = {}) => {
    const started = await call('POST', '/v1/executions', { definition, input });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    return started.body['executionId'] as string;
  };
  /** A Task that GETs `path` from the receiver and fails (Rebound.VerificationFailed) unless it answers 200. */
  const check = (path: string) => ({
    Type: 'Task',
    Resource: 'rebound:verify.http',
    Parameters: { url: `${receiver.url}${path}` },
  });

  beforeAll(async () => {
    await receiver.start();
    t = await makeTestApp({ verify: { http: { allowedUrlPrefixes: [receiver.url] } } });
  });
  afterAll(async () => {
    await t?.close();
    await receiver.stop();
  });

  it('shows a state that succeeded on a retry as succeeded, and one a Catch took over as caught', async () => {
    const definition: AslDefinition = {
      StartAt: 'Flaky',
      States: {
        Flaky: {
          ...check('/flaky'),
          Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 1 }],
          Next: 'Refused',
        },
        Refused: {
          ...check('/refused'),
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.refused', Next: 'Recover' }],
          Next: 'Done',
        },
        Recover: { Type: 'Pass', End: true },
        Done: { Type: 'Succeed' },
      },
    } as unknown as AslDefinition;
    receiver.script.push(500, 200, 503); // Flaky fails once, then passes; Refused fails
    const { status, runs: r } = await graphOf(definition, await start(definition));
    expect(status).toBe('SUCCEEDED');
    const flaky = r.get('Flaky')!;
    expect(flaky).toMatchObject({ outcome: 'succeeded', visits: 1 });
    expect(flaky.events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['TaskFailed', 'TaskScheduled', 'TaskSucceeded', 'TaskStateExited']),
    );
    expect(flaky.error?.error).toBe('Rebound.VerificationFailed'); // the error it had on the way
    expect(r.get('Refused')).toMatchObject({
      outcome: 'caught',
      error: { error: 'Rebound.VerificationFailed' },
    });
    expect(r.get('Recover')?.outcome).toBe('succeeded');
    expect(r.has('Done')).toBe(false); // drawn as not run
  });

  it('forgets a failure that a redrive ran again and passed', async () => {
    const definition = {
      StartAt: 'Check',
      States: { Check: { ...check('/later'), End: true } },
    } as unknown as AslDefinition;
    receiver.script.push(500);
    const id = await start(definition);
    const failed = await graphOf(definition, id);
    expect(failed.status).toBe('FAILED');
    expect(failed.runs.get('Check')?.outcome).toBe('failed');
    expect((await call('POST', `/v1/executions/${id}/redrive`, {})).status).toBe(200);
    await eventually(async () => (await call('GET', `/v1/executions/${id}`)).body['status'] === 'SUCCEEDED');
    const redriven = await graphOf(definition, id);
    expect(redriven.runs.get('Check')).toMatchObject({
      outcome: 'succeeded',
      visits: 1,
      tally: { succeeded: 1 },
    });
    expect(redriven.runs.get('Check')!.events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['TaskFailed', 'ExecutionRedriven', 'TaskSucceeded']),
    );
  });

  it('shows a branch cut short by a failing sibling as aborted, and the failing state as failed', async () => {
    const definition = {
      StartAt: 'Both',
      States: {
        Both: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'Broken', States: { Broken: { ...check('/broken'), End: true } } },
            { StartAt: 'Patient', States: { Patient: { Type: 'Wait', Seconds: 30, End: true } } },
          ],
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Report' }],
          Next: 'Report',
        },
        Report: { Type: 'Pass', End: true },
      },
    } as unknown as AslDefinition;
    receiver.script.push(500);
    const { status, runs: r } = await graphOf(definition, await start(definition));
    expect(status).toBe('SUCCEEDED');
    expect(r.get('Both')?.outcome).toBe('caught');
    expect(r.get('Both/0/Broken')).toMatchObject({
      outcome: 'failed',
      error: { error: 'Rebound.VerificationFailed' },
    });
    expect(r.get('Both/1/Patient')?.outcome).toBe('aborted');
    expect(r.get('Report')?.outcome).toBe('succeeded');
  });
});
