import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { createApp, type App } from '../../src/app.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { ConfigInput } from '../../src/config/schema.ts';

// Byte-for-byte copies of the payloads captured from Alertmanager 0.25 (the project's shared fixtures).
const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');

/** A real Alertmanager payload captured from Alertmanager 0.25. */
export function fixture(name: 'firing' | 'resolved'): Record<string, unknown> {
  return JSON.parse(readFileSync(join(EXAMPLES, `alertmanager-${name}.json`), 'utf8')) as Record<
    string,
    unknown
  >;
}

export function tempDir(prefix = 'rebound-test-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface TestApp {
  readonly app: App;
  readonly dir: string;
  close(): Promise<void>;
}

/**
 * A real, started app (port 0 on loopback) on a real SQLite file in a temp dir; logs silenced unless
 * REBOUND_TEST_LOGS is set. Pass `dir` to reopen an earlier app's data (that app must be stopped).
 */
export async function makeTestApp(
  config: ConfigInput = {},
  now?: () => Date,
  dir: string = tempDir().path,
): Promise<TestApp> {
  const app = createApp({
    config: parseConfig({
      logging: { level: process.env['REBOUND_TEST_LOGS'] ? 'debug' : 'silent' },
      ...config,
      server: { listen: '127.0.0.1:0', ...config.server },
      dataDir: dir,
    }),
    ...(now ? { now } : {}),
  });
  await app.start();
  return {
    app,
    dir,
    async close() {
      await app.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Builds a webhook payload with the given alerts (labels → firing alerts unless status given). */
export function webhook(
  alerts: {
    labels: Record<string, string>;
    status?: 'firing' | 'resolved';
    startsAt?: string;
    annotations?: Record<string, string>;
  }[],
): Record<string, unknown> {
  const status = alerts.some((a) => (a.status ?? 'firing') === 'firing') ? 'firing' : 'resolved';
  return {
    version: '4',
    groupKey: '{}:{alertname="Test"}',
    truncatedAlerts: 0,
    status,
    receiver: 'rebound',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://127.0.0.1:9093',
    alerts: alerts.map((a) => ({
      status: a.status ?? 'firing',
      labels: a.labels,
      annotations: a.annotations ?? { summary: `${a.labels['alertname'] ?? 'alert'} test` },
      startsAt: a.startsAt ?? '2026-11-25T20:00:00Z',
      endsAt: (a.status ?? 'firing') === 'firing' ? '0001-01-01T00:00:00Z' : '2026-11-25T20:05:00Z',
      generatorURL: 'http://127.0.0.1:9090/graph',
    })),
  };
}

/** Posts an Alertmanager payload to the app's webhook, expects it accepted, and waits until it is projected. */
export async function ingest(app: App, payload: unknown): Promise<void> {
  const res = await app.http.inject({
    method: 'POST',
    url: '/v1/webhooks/alertmanager',
    payload: payload as object,
  });
  expect(res.statusCode).toBe(200);
  await app.settle();
}
