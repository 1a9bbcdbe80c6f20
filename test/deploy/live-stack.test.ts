import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { createCheckoutServer } from '../../services/checkout/src/server.ts';
import type { CheckoutServer } from '../../services/checkout/src/server.ts';
import { DEPLOY } from './known-metrics.ts';
import { requireTool } from './tools.ts';

/**
 * The fast-demo assets with the real binaries: Prometheus scrapes a real checkout service, evaluates the
 * demo rules, and Alertmanager delivers to a webhook receiver standing where Rebound will be. Proves the
 * shipped configs work together (bearer token, labels, firing then resolved) before the demo builds on them.
 */

const prometheusBin = requireTool('prometheus');
const alertmanagerBin = requireTool('prometheus-alertmanager');
const TOKEN = 'live-stack-token';

interface Notification {
  readonly headers: IncomingHttpHeaders;
  readonly body: {
    status: string;
    alerts: { status: string; labels: Record<string, string> }[];
  };
}

async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Stands in for Rebound: records webhook posts and serves an empty /metrics so its scrape job is up. */
async function startReceiver(notifications: Notification[]): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/webhooks/alertmanager') {
        notifications.push({ headers: req.headers, body: JSON.parse(raw) as Notification['body'] });
        res.writeHead(200).end('{}');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end('');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port };
}

async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 45_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.skipIf(!prometheusBin || !alertmanagerBin)(
  'fast-demo stack with real Prometheus and Alertmanager',
  () => {
    const notifications: Notification[] = [];
    const children: ChildProcess[] = [];
    let dir: string;
    let receiver: Server;
    let checkout: CheckoutServer;
    let checkoutUrl: string;
    let traffic: NodeJS.Timeout | undefined;
    let promUrl = '';

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'rebound-live-stack-'));
      const hook = await startReceiver(notifications);
      receiver = hook.server;
      checkout = createCheckoutServer();
      checkoutUrl = await checkout.start();
      const [promPort, amPort] = [await freePort(), await freePort()];
      promUrl = `http://127.0.0.1:${promPort}`;

      await cp(join(DEPLOY, 'prometheus/demo'), join(dir, 'prometheus'), { recursive: true });
      const promConfigPath = join(dir, 'prometheus/prometheus.yml');
      const promConfig = (await readFile(promConfigPath, 'utf8'))
        .replace("'127.0.0.1:9093'", `'127.0.0.1:${amPort}'`)
        .replace("'127.0.0.1:6443'", `'127.0.0.1:${hook.port}'`)
        .replace("'127.0.0.1:8080'", `'127.0.0.1:${hook.port}'`);
      await writeFile(promConfigPath, promConfig);
      const target = new URL(checkoutUrl).host;
      const labels = { namespace: 'shop', deployment: 'checkout', pod: 'checkout-5c4b3a2f1-abcde' };
      await writeFile(
        join(dir, 'prometheus/targets/checkout.json'),
        JSON.stringify([{ targets: [target], labels }]),
      );

      const amConfig = parse(await readFile(join(DEPLOY, 'alertmanager/demo/alertmanager.yml'), 'utf8')) as {
        receivers: {
          webhook_configs: { url: string; http_config: { authorization: { credentials: string } } }[];
        }[];
      };
      const webhook = amConfig.receivers[0]!.webhook_configs[0]!;
      webhook.url = `http://127.0.0.1:${hook.port}/v1/webhooks/alertmanager`;
      webhook.http_config.authorization.credentials = TOKEN;
      await writeFile(join(dir, 'alertmanager.yml'), stringify(amConfig));

      const spawnQuiet = (bin: string, args: string[]) => {
        const child = spawn(bin, args, { stdio: 'ignore' });
        children.push(child);
      };
      spawnQuiet(alertmanagerBin!, [
        `--config.file=${join(dir, 'alertmanager.yml')}`,
        `--storage.path=${join(dir, 'am-data')}`,
        `--web.listen-address=127.0.0.1:${amPort}`,
        `--web.external-url=http://127.0.0.1:${amPort}`,
        '--cluster.listen-address=',
      ]);
      spawnQuiet(prometheusBin!, [
        `--config.file=${promConfigPath}`,
        `--storage.tsdb.path=${join(dir, 'prom-data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        `--web.external-url=http://127.0.0.1:${promPort}`,
        '--rules.alert.resend-delay=1s',
      ]);
      await until('Prometheus to be ready', async () => {
        const ok = await fetch(`http://127.0.0.1:${promPort}/-/ready`).then(
          (r) => r.ok,
          () => false,
        );
        return ok || undefined;
      });

      // Steady traffic, as the demo's load generator will send.
      const cart = { items: [{ sku: 'MUG-001', quantity: 1 }], payment: { token: 'tok_visa' } };
      traffic = setInterval(() => {
        fetch(checkoutUrl + '/checkout', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(cart),
        }).then(
          (r) => r.body?.cancel(),
          () => undefined,
        );
      }, 20);
    }, 60_000);

    afterAll(async () => {
      if (traffic) clearInterval(traffic);
      for (const child of children) child.kill('SIGTERM');
      await Promise.all(
        children.map((c) => (c.exitCode === null ? new Promise((r) => c.on('exit', r)) : undefined)),
      );
      await checkout?.stop();
      await new Promise((resolve) => receiver?.close(resolve));
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const find = (status: string) =>
      notifications.find((n) =>
        n.body.alerts.some((a) => a.labels['alertname'] === 'CheckoutHighErrorRatio' && a.status === status),
      );

    it('an injected fault reaches the webhook as a firing alert, and degraded mode resolves it', async () => {
      const put = (body: unknown) =>
        fetch(checkoutUrl + '/admin/chaos', {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      // Prometheus applies discovered targets at most every 5 s: wait until checkout has been scraped a few
      // times (its 503 counter is exported at zero from the start) so the fault, not discovery, is measured.
      await until('checkout to be scraped', async () => {
        const expr =
          'count_over_time(http_requests_total{job="checkout", route="/checkout", status="503"}[5s]) >= 3';
        const response = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
        const body = (await response.json()) as { data: { result: unknown[] } };
        return body.data.result.length > 0 || undefined;
      });
      expect(find('firing')).toBeUndefined();

      const faultAt = Date.now();
      expect((await put({ errorRate: 0.5 })).status).toBe(200);
      const firing = await until('a firing CheckoutHighErrorRatio notification', () => find('firing'));
      const firedAfterMs = Date.now() - faultAt;

      expect(firing.headers.authorization).toBe(`Bearer ${TOKEN}`);
      const alert = firing.body.alerts.find((a) => a.labels['alertname'] === 'CheckoutHighErrorRatio')!;
      expect(alert.labels).toMatchObject({
        alertname: 'CheckoutHighErrorRatio',
        service: 'checkout',
        namespace: 'shop',
        deployment: 'checkout',
        severity: 'critical',
      });

      const fixAt = Date.now();
      expect((await put({ degradedMode: true })).status).toBe(200);
      await until('a resolved CheckoutHighErrorRatio notification', () => find('resolved'));
      const resolvedAfterMs = Date.now() - fixAt;
      // Informational only (shared, noisy machines): tests assert behaviour, never wall-clock time.
      console.info(
        `live stack: fault → firing webhook ${firedAfterMs} ms; fix → resolved webhook ${resolvedAfterMs} ms`,
      );
    }, 90_000);
  },
);
