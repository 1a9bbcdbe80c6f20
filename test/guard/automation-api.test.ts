import { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { automationCommand, parseMatch, parseUntil } from '../../src/cli/commands/automation.ts';
import { ApiError } from '../../src/cli/client.ts';
import { Automation, type AutomationStatus } from '../../src/guard/automation.ts';
import { effectiveGuardConfig, guardConfigSchema } from '../../src/guard/config.ts';
import type { AutomationMode } from '../../src/guard/views.ts';
import { serverConfigSchema } from '../../src/http/config.ts';
import { registerAutomationRoutes } from '../../src/http/routes/automation.ts';
import { createHttpServer } from '../../src/http/server.ts';
import { SqliteGuardStore } from '../../src/store/sqlite/guard.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { createMetrics } from '../../src/telemetry/metrics.ts';
import { GuardDb, TestClock } from './support.ts';

const LIVE: AutomationMode = { mode: 'live', message: 'live: guarded actions are sent to the cluster' };
let mode = (): AutomationMode => LIVE;

const OPERATOR = 'operator-token-0123456789abcdef';
const VIEWER = 'viewer-token-0123456789abcdef00';
const ADMIN = 'admin-token-0123456789abcdef000';

describe('automation REST API and CLI', () => {
  const db = new GuardDb();
  const clock = new TestClock();
  const automation = new Automation(new SqliteGuardStore(db.open()), guardConfigSchema.parse({}), clock.now);
  let app: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    const config = serverConfigSchema.parse({
      auth: {
        apiTokens: [
          { name: 'alice', role: 'operator', token: OPERATOR },
          { name: 'victor', role: 'viewer', token: VIEWER },
          { name: 'ada', role: 'admin', token: ADMIN },
        ],
      },
    });
    ({ app } = createHttpServer({
      config,
      logger: createLogger({ level: 'silent' }),
      metrics: createMetrics(new Registry()),
      loopbackOnly: true,
    }));
    registerAutomationRoutes(app, {
      automation: {
        status: async () => ({ ...(await automation.status()), mode: mode() }),
        pause: (input) => automation.pause(input),
        resume: (input) => automation.resume(input),
      },
    });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app.close();
    db.close();
  });

  async function cli(args: string[], token = OPERATOR): Promise<string> {
    const program = new Command('rebound').option('--url <url>').option('--token <token>').exitOverride();
    program.addCommand(automationCommand());
    const chunks: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => chunks.push(chunk) > 0) as typeof process.stdout.write;
    try {
      await program.parseAsync(['node', 'rebound', '--url', url, '--token', token, 'automation', ...args]);
    } finally {
      process.stdout.write = write;
    }
    return chunks.join('');
  }

  it('pause via CLI, shown in status, refused to a viewer, lifted via resume', async () => {
    const paused = JSON.parse(
      await cli([
        'pause',
        '--match',
        'cluster=prod,namespace=shop',
        '--until',
        '2h',
        '--reason',
        'freeze',
        '-o',
        'json',
      ]),
    ) as { pause: { id: string; match: Record<string, string>; until: string; createdBy: string } };
    expect(paused.pause.match).toEqual({ cluster: 'prod', namespace: 'shop' });
    expect(paused.pause.createdBy).toBe('user:alice');
    expect(Date.parse(paused.pause.until)).toBeGreaterThan(clock.now().getTime());

    const status = JSON.parse(await cli(['status', '-o', 'json'], VIEWER)) as AutomationStatus;
    expect(status.pauses.map((p) => p.reason)).toEqual(['freeze']);
    const table = await cli(['status'], VIEWER);
    expect(table).toContain('cluster=prod,namespace=shop');
    expect(table).toContain('shadow mode: off');
    expect(table).toContain('live: guarded actions are sent to the cluster');

    const denied = await cli(['pause'], VIEWER).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(ApiError);
    expect(denied).toMatchObject({ status: 403 });

    // Pausing is an operator's call; resuming automation needs an admin.
    const notAdmin = await cli(['resume', '--scope', 'prod/shop']).catch((e: unknown) => e);
    expect(notAdmin).toMatchObject({ status: 403 });
    const resumed = await cli(['resume', '--scope', 'prod/shop'], ADMIN);
    expect(resumed).toContain(`pauses lifted: ${paused.pause.id}`);
    expect((await automation.status()).pauses).toEqual([]);
  });

  it('says plainly when nothing is configured and actions are only recorded (shadow by default)', async () => {
    // What createApp computes for the guard section of an empty rebound.yaml on a server with no cluster.
    const shadow = effectiveGuardConfig(guardConfigSchema.parse({}), false).mode;
    mode = () => shadow;
    try {
      const table = await cli(['status'], VIEWER);
      expect(table.split('\n').slice(0, 2)).toEqual([
        'shadow mode: no cluster/allowlist configured — actions are recorded, not sent',
        'to act for real, configure: kubernetes.clusters, guard.allowlist.namespaces',
      ]);
      const json = JSON.parse(await cli(['status', '-o', 'json'], VIEWER)) as { mode: AutomationMode };
      expect(json.mode).toEqual({ ...shadow, reason: 'default' });
    } finally {
      mode = () => LIVE;
    }
  });

  it('resume resets an open breaker, visible over REST', async () => {
    for (let i = 0; i < 5; i += 1) await automation.recordOutcome('prod/shop', false);
    const before = await fetch(`${url}/v1/automation`, { headers: { authorization: `Bearer ${VIEWER}` } });
    const status = (await before.json()) as AutomationStatus;
    expect(status.breakers).toEqual([
      expect.objectContaining({ scope: 'prod/shop', state: 'open', successRate: 0, outcomes: 5 }),
    ]);
    const out = await cli(['resume'], ADMIN);
    expect(out).toContain('breakers reset: prod/shop');
    expect((await automation.breakers.get('prod/shop')).state).toBe('closed');
  });

  it('rejects bad input with 400 and a field path', async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${path.endsWith('/resume') ? ADMIN : OPERATOR}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
      });
    const badUntil = await post('/v1/automation/pause', { until: 'tomorrow' });
    expect(badUntil.status).toBe(400);
    expect(await badUntil.json()).toMatchObject({ code: 'BAD_REQUEST', path: 'until' });
    const past = await post('/v1/automation/pause', { until: '2000-01-01T00:00:00Z' });
    expect(past.status).toBe(400);
    expect(((await past.json()) as { message: string }).message).toContain('not in the future');
    const unknownKey = await post('/v1/automation/resume', { scop: 'x' });
    expect(unknownKey.status).toBe(400);
    const badScope = await post('/v1/automation/resume', { scope: 'a/b/c' });
    expect(badScope.status).toBe(400);
    const missing = await post('/v1/automation/resume', { pauseId: 'nope' });
    expect(missing.status).toBe(404);
  });

  it('parses --match and --until', () => {
    expect(parseMatch('namespace=shop, alertname=HighErrorRate')).toEqual({
      namespace: 'shop',
      alertname: 'HighErrorRate',
    });
    expect(() => parseMatch('namespace')).toThrow('is not k=v');
    const now = new Date('2026-11-25T12:00:00Z');
    expect(parseUntil('90m', now)).toBe('2026-11-25T13:30:00.000Z');
    expect(parseUntil('2026-12-01T08:00:00Z', now)).toBe('2026-12-01T08:00:00.000Z');
    expect(() => parseUntil('soon', now)).toThrow('neither');
  });
});
