import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEPLOY } from './known-metrics.ts';
import { requireTool, run } from './tools.ts';

const AM = join(DEPLOY, 'alertmanager');
const PROD = join(AM, 'alertmanager.yml');
const DEMO = join(AM, 'demo/alertmanager.yml');
const amtool = requireTool('amtool');

interface WebhookConfig {
  url: string;
  send_resolved?: boolean;
  http_config?: { authorization?: { type?: string; credentials?: string; credentials_file?: string } };
}
interface AmConfig {
  route: { receiver: string; group_by: string[]; group_wait: string; group_interval: string };
  receivers: { name: string; webhook_configs?: WebhookConfig[] }[];
}

async function load(path: string): Promise<AmConfig> {
  return parse(await readFile(path, 'utf8')) as AmConfig;
}

function reboundWebhook(config: AmConfig): WebhookConfig {
  const receiver = config.receivers.find((r) => r.name === config.route.receiver);
  const hook = receiver?.webhook_configs?.[0];
  if (!hook) throw new Error('the default receiver has no webhook');
  return hook;
}

describe('Alertmanager configuration', () => {
  it.each([PROD, DEMO])(
    '%s routes to Rebound with bearer auth, resolved notifications and grouping',
    async (path) => {
      const config = await load(path);
      const hook = reboundWebhook(config);
      expect(new URL(hook.url).pathname).toBe('/v1/webhooks/alertmanager');
      expect(hook.send_resolved).toBe(true);
      const auth = hook.http_config?.authorization;
      expect(auth?.type ?? 'Bearer').toBe('Bearer');
      expect(auth?.credentials ?? auth?.credentials_file).toBeTruthy();
      expect(config.route.group_by).toEqual(['alertname', 'namespace', 'service']);
    },
  );

  it('the demo variant notifies at once; production reads the token from a file', async () => {
    const demo = await load(DEMO);
    expect(demo.route.group_wait).toBe('0s');
    expect(demo.route.group_interval).toBe('1s');
    expect(reboundWebhook(await load(PROD)).http_config?.authorization?.credentials_file).toMatch(/^\//);
  });
});

describe.skipIf(!amtool)('Alertmanager configuration under amtool', () => {
  const scratch: string[] = [];
  afterAll(async () => {
    for (const dir of scratch) await rm(dir, { recursive: true, force: true });
  });

  it.each([PROD, DEMO])('amtool check-config accepts %s', async (path) => {
    const result = await run(amtool!, ['check-config', path]);
    expect(result.stdout).toMatch(/SUCCESS/);
    expect(result.code).toBe(0);
  });

  it('amtool check-config rejects a broken configuration (the check can fail)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rebound-amtool-'));
    scratch.push(dir);
    const broken = join(dir, 'broken.yml');
    await writeFile(broken, 'route:\n  receiver: nowhere\nreceivers:\n  - name: rebound\n');
    const result = await run(amtool!, ['check-config', broken]);
    expect(result.code).not.toBe(0);
  });

  it.each([
    [['alertname=CheckoutHighErrorRatio', 'service=checkout', 'severity=critical'], 'rebound'],
    [['alertname=ErrorBudgetBurn', 'slo=checkout-availability', 'severity=critical'], 'rebound'],
    [['alertname=ReboundDown', 'component=rebound', 'severity=critical'], 'oncall'],
  ])('routes %j to %s', async (labels, receiver) => {
    const result = await run(amtool!, ['config', 'routes', 'test', `--config.file=${PROD}`, ...labels]);
    expect(result.stdout.trim()).toBe(receiver);
  });
});
