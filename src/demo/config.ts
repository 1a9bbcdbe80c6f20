import { join } from 'node:path';
import type { ConfigInput } from '../config/schema.ts';
import { SHOP } from './shop.ts';

/**
 * The Rebound configuration the demo generates: its cluster is the stand-in (so automation is live, not in
 * shadow mode), only the `shop` namespace is allowlisted, verification reads the demo's Prometheus and
 * Alertmanager, and the polling intervals are short enough for a loop that closes in seconds.
 */

export interface DemoConfigInput {
  readonly dir: string;
  readonly port: number;
  readonly kubeconfig: string;
  readonly runbooksDir: string;
  readonly prometheusUrl: string;
  readonly alertmanagerUrl: string;
  readonly webhookToken: string;
  /** A PagerDuty Events v2 compatible endpoint for escalations (tests run a local receiver). */
  readonly pagerdutyUrl?: string;
  /** Overrides merged last (tests shorten verification windows, for instance). */
  readonly overrides?: Partial<ConfigInput>;
}

export const DEMO_CLUSTER = 'demo';
/** A placeholder integration key; it only ever reaches the local receiver given as pagerdutyUrl. */
export const DEMO_PAGERDUTY_KEY = 'demo0000000000000000000000000000';

export function demoConfig(input: DemoConfigInput): ConfigInput {
  return {
    dataDir: join(input.dir, 'rebound'),
    logging: { level: 'warn' },
    server: { listen: `127.0.0.1:${input.port}`, auth: { webhookTokens: [input.webhookToken] } },
    workflows: { runbooksDir: input.runbooksDir, reaperIntervalSeconds: 1 },
    kubernetes: {
      defaultCluster: DEMO_CLUSTER,
      clusters: { [DEMO_CLUSTER]: { kubeconfig: input.kubeconfig } },
      preflightDryRun: true,
      pollIntervalMs: 200,
      evictionRetryMs: 500,
      scaleBounds: [{ namespace: SHOP.namespace, name: SHOP.deployment, min: 2, max: 6 }],
    },
    guard: {
      allowlist: {
        clusters: [DEMO_CLUSTER],
        namespaces: [SHOP.namespace],
        kinds: ['Deployment', 'ConfigMap', 'Pod', 'Node'],
      },
      // The demo loops many times an hour (bench runs 5 per scenario); production keeps the default of 3.
      budget: { maxActions: 100, window: '1h' },
      lock: { pollInterval: 50 },
    },
    verify: {
      prometheus: { url: input.prometheusUrl },
      alertmanager: { url: input.alertmanagerUrl },
      alertResolved: { pollIntervalSeconds: 1 },
    },
    ...(input.pagerdutyUrl
      ? { notify: { pagerduty: { routingKey: DEMO_PAGERDUTY_KEY, url: input.pagerdutyUrl } } }
      : {}),
    ...input.overrides,
  };
}
