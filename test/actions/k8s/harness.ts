import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ClusterDirectory,
  kubernetesConfigSchema,
  type KubernetesConfig,
} from '../../../src/actions/k8s/config.ts';
import type { K8sActionDeps } from '../../../src/actions/k8s/shared.ts';
import type { ActionContext } from '../../../src/actions/types.ts';
import { KubeApiDouble, writeKubeconfig } from '../../support/k8s-api/index.ts';

export const START = Date.parse('2026-01-02T03:04:05.678Z');

/** A double, a kubeconfig file for it, and action deps on a virtual clock that only `sleep` advances. */
export interface Harness {
  readonly api: KubeApiDouble;
  readonly deps: K8sActionDeps;
  readonly kubeconfig: string;
  readonly sleeps: number[];
  ctx(options?: { shadow?: boolean }): ActionContext;
  now(): number;
  close(): Promise<void>;
}

export async function harness(
  config: Partial<Record<keyof KubernetesConfig, unknown>> = {},
): Promise<Harness> {
  const api = new KubeApiDouble({ now: () => new Date(clock) });
  let clock = START;
  await api.start();
  const dir = await mkdtemp(join(tmpdir(), 'rebound-k8s-'));
  const kubeconfig = await writeKubeconfig(dir, api.url);
  const parsed = kubernetesConfigSchema.parse({
    clusters: { prod: { kubeconfig } },
    preflightDryRun: false,
    pollIntervalMs: 1000,
    evictionRetryMs: 5000,
    ...config,
  });
  const sleeps: number[] = [];
  const deps: K8sActionDeps = {
    clusters: new ClusterDirectory(parsed),
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
  };
  return {
    api,
    deps,
    kubeconfig,
    sleeps,
    now: () => clock,
    ctx: (options = {}) => ({
      idempotencyKey: 'exec-1/state/0',
      shadow: options.shadow ?? false,
      signal: new AbortController().signal,
      now: () => new Date(clock),
    }),
    close: async () => {
      await api.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The next PATCH is applied (`apply` changes the stored object as the server would), then answered 504, as
 * the apiserver does when etcd is slow to confirm: a write that landed with its answer lost.
 */
export function landWithAnswerLost(h: Harness, apply: () => void): void {
  let landing = true;
  h.api.onRequest((r) => {
    if (landing && r.method === 'PATCH') {
      landing = false;
      apply();
    }
  });
  h.api.failNext(1, { code: 504, reason: 'Timeout' }, { method: 'PATCH' });
}
