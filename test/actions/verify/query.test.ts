import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compare } from '../../../src/actions/verify/compare.ts';
import { VerificationFailedError, VerificationUnavailableError } from '../../../src/actions/verify/errors.ts';
import { queryAction } from '../../../src/actions/verify/query.ts';
import { IntegrationError } from '../../../src/integrations/errors.ts';
import { PrometheusClient } from '../../../src/integrations/prometheus/client.ts';
import { HttpRecorder } from '../../support/receivers/http-recorder.ts';
import { MetricsTarget } from '../../support/receivers/metrics-target.ts';
import {
  monitoringUnavailable,
  startPrometheus,
  type RunningServer,
} from '../../support/receivers/monitoring.ts';
import { eventually, rejection, testContext } from './context.ts';

const unavailable = monitoringUnavailable();

describe.skipIf(unavailable !== undefined)('verify.query against a real Prometheus', () => {
  let target: MetricsTarget;
  let prom: RunningServer;
  let action: ReturnType<typeof queryAction>;

  beforeAll(async () => {
    target = await MetricsTarget.start();
    target.set('rebound_error_ratio{service="checkout"}', 0.002);
    target.set('rebound_error_ratio{service="cart"}', 0.2);
    prom = await startPrometheus({ targets: [target.address], rules: 'groups: []\n' });
    const client = new PrometheusClient({ url: prom.url, timeoutMs: 5_000 });
    action = queryAction(client);
    await eventually(
      async () => (await client.query('rebound_error_ratio')).samples.length === 2,
      'first scrape',
    );
  }, 60_000);
  afterAll(async () => {
    await prom?.stop();
    await target?.close();
  });

  const run = (params: Record<string, unknown>) => action.run(action.params.parse(params), testContext());

  it('passes when every series satisfies the threshold', async () => {
    const out = (await run({ query: 'rebound_error_ratio{service="checkout"}', op: '<', threshold: 0.01 }))
      .output;
    expect(out).toMatchObject({ passed: true, empty: false, evaluations: 1, op: '<', threshold: 0.01 });
    expect(out.samples).toEqual([
      { metric: expect.objectContaining({ service: 'checkout' }), value: 0.002, passed: true },
    ]);
  });

  it('fails with Rebound.VerificationFailed naming the failing series', async () => {
    const err = await rejection(run({ query: 'rebound_error_ratio', op: '<', threshold: 0.01 }));
    expect(err).toBeInstanceOf(VerificationFailedError);
    expect(err.message).toContain('"service":"cart"');
    expect(err.message).not.toContain('"service":"checkout"');
  });

  it('compares scalars', async () => {
    expect(
      (await run({ query: 'scalar(sum(rebound_error_ratio))', op: '>=', threshold: 0.2 })).output.passed,
    ).toBe(true);
  });

  it('handles an empty result as configured', async () => {
    const q = 'rebound_error_ratio{service="none"}';
    expect((await rejection(run({ query: q, op: '<', threshold: 1 }))).message).toMatch(
      /returned no data; set ifEmpty/,
    );
    expect((await run({ query: q, op: '<', threshold: 1, ifEmpty: 'pass' })).output).toMatchObject({
      passed: true,
      empty: true,
    });
    expect((await run({ query: q, op: '==', threshold: 0, ifEmpty: 'zero' })).output.samples).toEqual([
      { metric: {}, value: 0, passed: true },
    ]);
    await expect(run({ query: q, op: '>', threshold: 0, ifEmpty: 'zero' })).rejects.toThrow(
      VerificationFailedError,
    );
  });

  it('surfaces a PromQL syntax error as a permanent bad_data error', async () => {
    const err = await rejection(run({ query: 'sum(', op: '<', threshold: 1 }));
    expect(err).toBeInstanceOf(IntegrationError);
    expect(err).toMatchObject({ status: 400, errorType: 'bad_data', retryable: false });
  });
});

describe('verify.query re-evaluation', () => {
  it('re-evaluates until the condition holds within timeoutSeconds', async () => {
    const vector = (v: string) => ({
      status: 200,
      body: { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, v] }] } },
    });
    const stand = await HttpRecorder.start(() => vector('0.001'));
    try {
      stand.script(
        vector('0.5'),
        { status: 503, body: { status: 'error', errorType: 'timeout', error: 'query timed out' } },
        vector('0.3'),
      );
      const action = queryAction(new PrometheusClient({ url: stand.url, timeoutMs: 1_000 }));
      const params = action.params.parse({
        query: 'ratio',
        op: '<',
        threshold: 0.01,
        timeoutSeconds: 30,
        pollIntervalSeconds: 0.01,
      });
      // A transient Prometheus error is not a verdict: it propagates so the runbook's Retry decides.
      await expect(action.run(params, testContext())).rejects.toMatchObject({
        errorType: 'timeout',
        retryable: true,
      });
      const out = (await action.run(params, testContext())).output;
      expect(out).toMatchObject({ passed: true, evaluations: 2 });
    } finally {
      await stand.close();
    }
  });
});

describe('verify.query without Prometheus', () => {
  it('says which configuration is missing', async () => {
    const action = queryAction(undefined);
    const err = await rejection(
      action.run(action.params.parse({ query: 'up', op: '==', threshold: 1 }), testContext()),
    );
    expect(err).toBeInstanceOf(VerificationUnavailableError);
    expect(err.message).toContain('verify.prometheus.url');
  });
});

describe('compare', () => {
  it('implements each operator and never passes NaN', () => {
    expect([
      compare(1, '<', 2),
      compare(2, '<=', 2),
      compare(3, '>', 2),
      compare(2, '>=', 2),
      compare(2, '==', 2),
      compare(1, '!=', 2),
    ]).toEqual([true, true, true, true, true, true]);
    expect([
      compare(2, '<', 2),
      compare(3, '<=', 2),
      compare(2, '>', 2),
      compare(1, '>=', 2),
      compare(1, '==', 2),
      compare(2, '!=', 2),
    ]).toEqual([false, false, false, false, false, false]);
    expect(compare(Number.NaN, '!=', 0)).toBe(false);
    expect(compare(Number.POSITIVE_INFINITY, '>', 1e308)).toBe(true);
  });
});
