import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertResolvedAction } from '../../../src/actions/verify/alert-resolved.ts';
import { VerificationUnavailableError } from '../../../src/actions/verify/errors.ts';
import { alertmanagerPoller, prometheusPoller, recheckAlert } from '../../../src/actions/verify/pollers.ts';
import { ResolvedAlertHub } from '../../../src/actions/verify/resolved-signal.ts';
import { AlertmanagerClient } from '../../../src/integrations/alertmanager/client.ts';
import { PrometheusClient } from '../../../src/integrations/prometheus/client.ts';
import { HttpRecorder } from '../../support/receivers/http-recorder.ts';
import { rejection, testContext } from './context.ts';

/**
 * Failure paths no real server produces on demand (5xx, refusals), with stand-ins answering the documented
 * envelopes: Alertmanager v2 `[]` / gettable alerts, Prometheus `{status, data | errorType, error}`.
 */

const firingAm = {
  status: 200,
  body: [
    {
      labels: { alertname: 'A', service: 's' },
      annotations: {},
      startsAt: '2024-01-01T00:00:00Z',
      endsAt: '2024-01-01T01:00:00Z',
      updatedAt: '2024-01-01T00:00:00Z',
      fingerprint: '0123456789abcdef',
      generatorURL: '',
      receivers: [{ name: 'r' }],
      status: { state: 'active', silencedBy: [], inhibitedBy: [] },
    },
  ],
};

describe('verify.alertResolved source handling', () => {
  let am: HttpRecorder;
  let prom: HttpRecorder;

  beforeEach(async () => {
    am = await HttpRecorder.start(() => ({ status: 200, body: [] }));
    prom = await HttpRecorder.start(() => ({
      status: 400,
      body: { status: 'error', errorType: 'bad_data', error: 'parse error' },
    }));
  });
  afterEach(async () => {
    await am.close();
    await prom.close();
  });

  function action(options: { withProm?: boolean; hub?: ResolvedAlertHub } = {}) {
    const pollers = [alertmanagerPoller(new AlertmanagerClient({ url: am.url, timeoutMs: 1_000 }))];
    if (options.withProm)
      pollers.push(prometheusPoller(new PrometheusClient({ url: prom.url, timeoutMs: 1_000 })));
    return alertResolvedAction({
      pollers,
      resolved: options.hub,
      defaultTimeoutSeconds: 20,
      defaultPollIntervalSeconds: 0.01,
    });
  }

  it('keeps polling through transient failures and records them', async () => {
    am.script({ status: 503, body: 'overloaded' }, firingAm, { status: 502, body: 'bad gateway' });
    const a = action();
    const out = (await a.run(a.params.parse({ alertname: 'A', labels: { service: 's' } }), testContext()))
      .output;
    expect(out.source).toBe('alertmanager');
    expect(out.checks.map((c) => c.outcome)).toEqual(['error', 'firing', 'error', 'resolved']);
    expect(am.requests.map((r) => r.query.getAll('filter'))).toContainEqual(['alertname="A"', 'service="s"']);
  });

  it('drops a source that fails for good and decides by the others', async () => {
    am.script(firingAm, firingAm);
    const a = action({ withProm: true });
    const out = (await a.run(a.params.parse({ alertname: 'A', labels: { service: 's' } }), testContext()))
      .output;
    expect(out.source).toBe('alertmanager');
    expect(out.checks.filter((c) => c.source === 'prometheus')).toEqual([
      expect.objectContaining({ outcome: 'error' }),
    ]);
    expect(prom.requests).toHaveLength(1);
  });

  it('says Rebound.VerificationUnavailable when no source can answer', async () => {
    am.script({ status: 400, body: '"bad matcher format"' });
    const a = action({ withProm: true });
    const err = await rejection(a.run(a.params.parse({ alertname: 'A' }), testContext()));
    expect(err).toBeInstanceOf(VerificationUnavailableError);
    expect(err.name).toBe('Rebound.VerificationUnavailable');
    expect(err.message).toContain('bad matcher format');
    expect(err.message).toContain('parse error');

    const none = alertResolvedAction({
      pollers: [],
      defaultTimeoutSeconds: 1,
      defaultPollIntervalSeconds: 1,
    });
    const noSource = await rejection(none.run(none.params.parse({ alertname: 'A' }), testContext()));
    expect(noSource.message).toMatch(/configure verify.prometheus or verify.alertmanager/);
  });

  it('waits for every alert of the incident and reports the last to resolve', async () => {
    const hub = new ResolvedAlertHub();
    const a = alertResolvedAction({
      pollers: [],
      resolved: hub,
      defaultTimeoutSeconds: 20,
      defaultPollIntervalSeconds: 1,
    });
    const params = a.params.parse({ alerts: [{ alertname: 'A', labels: { s: '1' } }, { alertname: 'B' }] });
    const running = a.run(params, testContext());
    hub.notifyResolved({ alertname: 'B', s: '9' }, new Date('2024-01-01T00:00:02Z'));
    hub.notifyResolved({ alertname: 'A', s: '1' }, new Date('2024-01-01T00:00:01Z'));
    const out = (await running).output;
    expect(out).toMatchObject({ resolved: true, source: 'webhook', at: '2024-01-01T00:00:02.000Z' });
    expect(out.alerts.map((x) => x.alertname)).toEqual(['A', 'B']);
  });

  it('stops polling an alert once it is decided, while the others are still awaited', async () => {
    const hub = new ResolvedAlertHub();
    const firingFor = (name: string) => ({
      ...firingAm,
      body: [{ ...firingAm.body[0]!, labels: { alertname: name } }],
    });
    const stand = await HttpRecorder.start((req) =>
      firingFor(req.query.getAll('filter')[0]!.includes('"A"') ? 'A' : 'B'),
    );
    try {
      const a = alertResolvedAction({
        pollers: [alertmanagerPoller(new AlertmanagerClient({ url: stand.url, timeoutMs: 1_000 }))],
        resolved: hub,
        defaultTimeoutSeconds: 20,
        defaultPollIntervalSeconds: 0.01,
      });
      const running = a.run(
        a.params.parse({ alerts: [{ alertname: 'A' }, { alertname: 'B' }] }),
        testContext(),
      );
      const polls = (name: string) =>
        stand.requests.filter((r) => r.query.getAll('filter')[0] === `alertname="${name}"`).length;
      while (polls('A') === 0) await new Promise((r) => setTimeout(r, 5));
      hub.notifyResolved({ alertname: 'A' }, new Date());
      await new Promise((r) => setTimeout(r, 0));
      const aAfter = polls('A');
      const bAfter = polls('B');
      while (polls('B') < bAfter + 5) await new Promise((r) => setTimeout(r, 5));
      expect(polls('A')).toBeLessThanOrEqual(aAfter + 1); // at most the request already in flight
      hub.notifyResolved({ alertname: 'B' }, new Date());
      expect((await running).output.alerts.map((x) => x.source)).toEqual(['webhook', 'webhook']);
    } finally {
      await stand.close();
    }
  });

  it('stops every source when the caller aborts', async () => {
    const hub = new ResolvedAlertHub();
    am.script(firingAm);
    const a = alertResolvedAction({
      pollers: [alertmanagerPoller(new AlertmanagerClient({ url: am.url, timeoutMs: 1_000 }))],
      resolved: hub,
      defaultTimeoutSeconds: 20,
      defaultPollIntervalSeconds: 30,
    });
    const controller = new AbortController();
    const running = a.run(a.params.parse({ alertname: 'A' }), testContext({ signal: controller.signal }));
    while (am.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
    controller.abort(new Error('execution stopped'));
    expect((await rejection(running)).message).toBe('execution stopped');
    expect(hub.waiting).toBe(0);
  });

  it('checks once more when re-run after its deadline has passed', async () => {
    const a = alertResolvedAction({
      pollers: [alertmanagerPoller(new AlertmanagerClient({ url: am.url, timeoutMs: 1_000 }))],
      defaultTimeoutSeconds: 20,
      defaultPollIntervalSeconds: 0.5,
    });
    const past = new Date(Date.now() - 60_000).toISOString();
    const out = (await a.run(a.params.parse({ alertname: 'A', deadline: past }), testContext())).output;
    expect(out).toMatchObject({ resolved: true, source: 'alertmanager' });
    am.script(firingAm, firingAm, firingAm, firingAm);
    await expect(a.run(a.params.parse({ alertname: 'A', deadline: past }), testContext())).rejects.toThrow(
      /still firing at the deadline/,
    );
  });

  it('says nothing is known, not "still firing", when no source ever answered before the deadline', async () => {
    // Alertmanager unreachable the whole time (a retryable failure, so it is asked again at every interval).
    const a = alertResolvedAction({
      pollers: [alertmanagerPoller(new AlertmanagerClient({ url: 'http://127.0.0.1:1', timeoutMs: 1_000 }))],
      resolved: new ResolvedAlertHub(),
      defaultTimeoutSeconds: 1,
      defaultPollIntervalSeconds: 0.2,
    });
    const err = await rejection(a.run(a.params.parse({ alertname: 'A' }), testContext()));
    expect(err.name).toBe('Rebound.VerificationUnavailable');
    expect(err.message).toMatch(
      /^no source answered about A before the deadline \S+ \(last check: alertmanager error: .*\); whether the remediation worked is not known/,
    );
    // One answer, even long ago, is an answer: then the deadline means still firing.
    const asked = alertResolvedAction({
      pollers: [alertmanagerPoller(new AlertmanagerClient({ url: am.url, timeoutMs: 1_000 }))],
      defaultTimeoutSeconds: 1,
      defaultPollIntervalSeconds: 0.2,
    });
    am.script(firingAm, firingAm, firingAm, firingAm, firingAm, firingAm, firingAm, firingAm);
    const failed = await rejection(asked.run(asked.params.parse({ alertname: 'A' }), testContext()));
    expect(failed.name).toBe('Rebound.VerificationFailed');
  });

  it('Prometheus: an alert still firing is not called resolved because the webhook carried external labels', async () => {
    // ALERTS and /api/v1/alerts never carry Prometheus' external labels; the webhook alert (through
    // Alertmanager) does. Series of other pods disagree on a label and are someone else's alert.
    const series = (pod: string) => ({
      metric: { __name__: 'ALERTS', alertname: 'A', alertstate: 'firing', service: 's', pod },
      value: [1714564800, '1'],
    });
    let firing = [series('p1'), series('p2')];
    // Answers an instant query as Prometheus does: only the series every equality matcher selects.
    const selected = (promql: string) => {
      const matchers = [...promql.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!] as const);
      return firing.filter((f) => matchers.every(([k, v]) => (f.metric as Record<string, string>)[k] === v));
    };
    const stand = await HttpRecorder.start((req) =>
      req.path === '/api/v1/query'
        ? {
            status: 200,
            body: {
              status: 'success',
              data: {
                resultType: 'vector',
                result: selected(req.query.get('query') ?? new URLSearchParams(req.body).get('query') ?? ''),
              },
            },
          }
        : { status: 200, body: { status: 'success', data: { alerts: [] } } },
    );
    try {
      const poller = prometheusPoller(new PrometheusClient({ url: stand.url, timeoutMs: 1_000 }));
      const query = {
        alertname: 'A',
        labels: {
          service: 's',
          pod: 'p1',
          prometheus: 'monitoring/k8s',
          prometheus_replica: 'prometheus-k8s-0',
        },
      };
      const signal = new AbortController().signal;
      expect(await poller.check(query, signal)).toMatchObject({ resolved: false });
      firing = [series('p2')]; // p1 resolved; p2 is another alert
      expect(await poller.check(query, signal)).toMatchObject({ resolved: true });
    } finally {
      await stand.close();
    }
  });

  it('validates its parameters', () => {
    const a = action();
    expect(a.params.safeParse({ alertname: 'A', alerts: [{ alertname: 'B' }] }).success).toBe(false);
    expect(a.params.safeParse({}).success).toBe(false);
    expect(a.params.safeParse({ alertname: 'A', labels: { 'bad-label': 'x' } }).success).toBe(false);
    expect(a.params.safeParse({ alertname: 'A', deadline: 'tomorrow' }).success).toBe(false);
    expect(
      a.params.safeParse({ alertname: 'A', sources: ['webhook'], deadline: '2030-01-01T00:00:00Z' }).success,
    ).toBe(true);
  });
});

describe('recheckAlert: the sources asked once', () => {
  let am: HttpRecorder;
  let prom: HttpRecorder;
  beforeEach(async () => {
    am = await HttpRecorder.start(() => firingAm);
    prom = await HttpRecorder.start(() => ({ status: 503, body: 'unavailable' }));
  });
  afterEach(async () => {
    await am.close();
    await prom.close();
  });

  const query = { alertname: 'A', labels: { alertname: 'A', service: 's' } };
  const pollers = () => [
    alertmanagerPoller(new AlertmanagerClient({ url: am.url, timeoutMs: 1_000 })),
    prometheusPoller(new PrometheusClient({ url: prom.url, timeoutMs: 1_000 })),
  ];
  const signal = new AbortController().signal;

  it('is still firing by the sources that answered; a failed one is left out', async () => {
    expect(await recheckAlert(pollers(), query, signal)).toEqual({
      resolved: false,
      sources: ['alertmanager'],
    });
    expect(am.requests).toHaveLength(1);
  });

  it('is resolved only when every source that answered says so', async () => {
    am.script({ status: 200, body: [] });
    expect(await recheckAlert(pollers(), query, signal)).toEqual({
      resolved: true,
      sources: ['alertmanager'],
    });
    // A Prometheus that does not evaluate the rule says resolved; Alertmanager still lists the alert.
    const promResolved = await HttpRecorder.start((req) => ({
      status: 200,
      body: {
        status: 'success',
        data: req.path === '/api/v1/alerts' ? { alerts: [] } : { resultType: 'vector', result: [] },
      },
    }));
    try {
      const both = [
        alertmanagerPoller(new AlertmanagerClient({ url: am.url, timeoutMs: 1_000 })),
        prometheusPoller(new PrometheusClient({ url: promResolved.url, timeoutMs: 1_000 })),
      ];
      am.script({ status: 200, body: [] });
      expect(await recheckAlert(both, query, signal)).toEqual({
        resolved: true,
        sources: ['alertmanager', 'prometheus'],
      });
      am.script(firingAm);
      expect(await recheckAlert(both, query, signal)).toEqual({ resolved: false, sources: ['alertmanager'] });
    } finally {
      await promResolved.close();
    }
  });

  it('is unknown when no source is configured or none answered', async () => {
    expect(await recheckAlert([], query, signal)).toBeUndefined();
    am.script({ status: 500, body: 'down' });
    expect(await recheckAlert(pollers(), query, signal)).toBeUndefined();
  });
});
