import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertmanagerClient } from '../../src/integrations/alertmanager/client.ts';
import { equalityMatchers, formatMatcher } from '../../src/integrations/alertmanager/matchers.ts';
import { IntegrationError } from '../../src/integrations/errors.ts';
import { HttpRecorder } from '../support/receivers/http-recorder.ts';
import {
  monitoringUnavailable,
  startAlertmanager,
  type RunningServer,
} from '../support/receivers/monitoring.ts';

const unavailable = monitoringUnavailable();

async function caught(promise: Promise<unknown>): Promise<IntegrationError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(IntegrationError);
  return err as IntegrationError;
}

async function postAlerts(url: string, alerts: unknown[]): Promise<void> {
  const res = await fetch(`${url}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(alerts),
  });
  expect(res.status).toBe(200);
}

describe.skipIf(unavailable !== undefined)('AlertmanagerClient against a real Alertmanager', () => {
  let am: RunningServer;
  let client: AlertmanagerClient;

  beforeAll(async () => {
    am = await startAlertmanager();
    client = new AlertmanagerClient({ url: am.url, timeoutMs: 5_000 });
    const endsAt = new Date(Date.now() + 3_600_000).toISOString();
    await postAlerts(am.url, [
      {
        labels: { alertname: 'HighErrorRate', service: 'checkout', namespace: 'shop' },
        annotations: { summary: 's' },
        endsAt,
      },
      { labels: { alertname: 'HighErrorRate', service: 'cart', namespace: 'shop' }, annotations: {}, endsAt },
      { labels: { alertname: 'Quoted', service: 'we"ird\\name' }, annotations: {}, endsAt },
    ]);
  });
  afterAll(async () => {
    await am?.stop();
  });

  it('filters alerts by equality matchers', async () => {
    const alerts = await client.listAlerts({
      filter: equalityMatchers({ alertname: 'HighErrorRate', service: 'checkout' }),
    });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      labels: { alertname: 'HighErrorRate', service: 'checkout', namespace: 'shop' },
      status: { state: 'active', silencedBy: [], inhibitedBy: [] },
    });
    expect(alerts[0]!.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(
      await client.listAlerts({ filter: equalityMatchers({ alertname: 'HighErrorRate', service: 'nope' }) }),
    ).toEqual([]);
  });

  it('escapes quotes and backslashes in matcher values', async () => {
    const alerts = await client.listAlerts({
      filter: equalityMatchers({ alertname: 'Quoted', service: 'we"ird\\name' }),
    });
    expect(alerts.map((a) => a.labels['service'])).toEqual(['we"ird\\name']);
  });

  it('creates a silence that suppresses the matching alert', async () => {
    const now = Date.now();
    const id = await client.createSilence({
      matchers: equalityMatchers({ alertname: 'HighErrorRate', service: 'cart' }),
      startsAt: new Date(now - 1000),
      endsAt: new Date(now + 600_000),
      createdBy: 'rebound',
      comment: 'snoozed from Slack',
    });
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const alerts = await client.listAlerts({
      filter: equalityMatchers({ alertname: 'HighErrorRate', service: 'cart' }),
    });
    expect(alerts[0]!.status).toMatchObject({ state: 'suppressed', silencedBy: [id] });
    const active = await client.listAlerts({
      filter: equalityMatchers({ alertname: 'HighErrorRate' }),
      silenced: false,
    });
    expect(active.map((a) => a.labels['service'])).toEqual(['checkout']);
  });

  it('maps Alertmanager 4xx to permanent errors carrying its message', async () => {
    const err = await caught(
      client.createSilence({
        matchers: [],
        startsAt: new Date(),
        endsAt: new Date(Date.now() + 1000),
        createdBy: 'r',
        comment: 'c',
      }),
    );
    // Alertmanager's swagger validation answers 422 for a silence without matchers.
    expect(err).toMatchObject({ service: 'alertmanager', kind: 'http', status: 422, retryable: false });
    const bad = await caught(
      client.listAlerts({ filter: [{ name: 'bad name', value: 'x', isRegex: false, isEqual: true }] }),
    );
    expect(bad).toMatchObject({ status: 400, retryable: false });
  });
});

describe('AlertmanagerClient error mapping', () => {
  it('retries 5xx (with Retry-After), not 404, and times out', async () => {
    const server = await HttpRecorder.start(() => ({ status: 200, body: [] }));
    try {
      const client = new AlertmanagerClient({ url: server.url, timeoutMs: 100 });
      server.script(
        { status: 503, headers: { 'retry-after': '7' }, body: 'unavailable' },
        { status: 404, body: 'not found' },
        { status: 200, hang: true },
      );
      expect(await caught(client.listAlerts({ filter: [] }))).toMatchObject({
        status: 503,
        retryable: true,
        retryAfterMs: 7000,
      });
      expect(await caught(client.listAlerts({ filter: [] }))).toMatchObject({
        status: 404,
        retryable: false,
      });
      expect(await caught(client.listAlerts({ filter: [] }))).toMatchObject({
        kind: 'timeout',
        retryable: true,
      });
      expect(await client.listAlerts({ filter: equalityMatchers({ alertname: 'A', b: 'c' }) })).toEqual([]);
      expect(server.requests.at(-1)!.query.getAll('filter')).toEqual(['alertname="A"', 'b="c"']);
    } finally {
      await server.close();
    }
  });

  it('formats every matcher operator', () => {
    expect(formatMatcher({ name: 'a', value: 'x', isRegex: false, isEqual: false })).toBe('a!="x"');
    expect(formatMatcher({ name: 'a', value: 'x.*', isRegex: true, isEqual: true })).toBe('a=~"x.*"');
    expect(formatMatcher({ name: 'a', value: 'x', isRegex: true, isEqual: false })).toBe('a!~"x"');
  });
});
