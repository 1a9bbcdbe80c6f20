import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { KubeConfig, type Cluster, type Context, type User } from '@kubernetes/client-node';
import { z } from 'zod';
import { ReboundError } from '../../errors.ts';

/**
 * How to reach one cluster: the pod's ServiceAccount (`inCluster: true`), or a kubeconfig file (and context)
 * like kubectl. One object rather than a union of the two, so a wrong field gets its own message.
 */
export const clusterConfigSchema = z
  .object({
    /** Use the pod's ServiceAccount (Rebound runs inside this cluster); excludes kubeconfig and context. */
    inCluster: z.boolean().optional(),
    /** Kubeconfig file; without it, `KUBECONFIG` (a path list, merged like kubectl) or ~/.kube/config. */
    kubeconfig: z.string().min(1).optional(),
    /** Context in that kubeconfig; without it, the file's current-context. */
    context: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((cluster, ctx) => {
    if (!cluster.inCluster) return;
    for (const key of ['kubeconfig', 'context'] as const)
      if (cluster[key] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message:
            `inCluster: true uses the pod's ServiceAccount, so ${key} has no effect; ` +
            `remove ${key}, or remove inCluster to use a kubeconfig`,
        });
  });

/** Replica bounds for `k8s.scale`; the most specific matching entry wins (cluster-specific over any-cluster). */
export const scaleBoundsSchema = z
  .object({
    cluster: z.string().optional(),
    namespace: z.string(),
    /** Deployment name. */
    name: z.string(),
    min: z.int().min(0).default(1),
    max: z.int().min(1),
    /** Scaling to zero replicas is refused unless this is set (and min is 0). */
    allowZero: z.boolean().default(false),
  })
  .strict()
  .refine((b) => b.min <= b.max, { message: 'min must not exceed max' });

/** The `kubernetes:` section of rebound.yaml. */
export const kubernetesConfigSchema = z
  .object({
    /** Cluster used when neither the runbook parameter nor the alert's `cluster` label names one. */
    defaultCluster: z.string().optional(),
    clusters: z.record(z.string(), clusterConfigSchema).default({}),
    /** Bounds applied to every Deployment without its own entry in `scaleBounds`. */
    defaultScaleBounds: z
      .object({
        min: z.int().min(0).default(1),
        max: z.int().min(1).default(20),
        allowZero: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    scaleBounds: z.array(scaleBoundsSchema).default([]),
    /** Send each write first with `dryRun=All` so the server validates it before the real call. */
    preflightDryRun: z.boolean().default(true),
    /**
     * How long one request to the API server may take before it fails as a retryable `K8s.Timeout`: a server
     * behind a black-holed load balancer accepts the connection and never answers, which would otherwise hold
     * the runbook, its incident and the target's lock for as long as the TCP connection lives.
     */
    requestTimeoutMs: z.int().min(1).max(600_000).default(30_000),
    /** Interval between polls while waiting (rollout status, pods gone) and between 429'd evictions. */
    pollIntervalMs: z.int().min(1).max(60_000).default(2000),
    evictionRetryMs: z.int().min(1).max(600_000).default(5000),
  })
  .strict()
  .superRefine((config, ctx) => {
    const names = Object.keys(config.clusters);
    // With no clusters listed, any name means the implicit kubectl-style cluster (see ClusterDirectory).
    if (config.defaultCluster !== undefined && names.length > 0 && !names.includes(config.defaultCluster))
      ctx.addIssue({
        code: 'custom',
        path: ['defaultCluster'],
        message: `no cluster "${config.defaultCluster}" in kubernetes.clusters (configured: ${names.join(', ')})`,
      });
  });

export type KubernetesConfig = z.infer<typeof kubernetesConfigSchema>;
export type ClusterConfig = z.infer<typeof clusterConfigSchema>;
export type ScaleBounds = { readonly min: number; readonly max: number; readonly allowZero: boolean };

/** What the process knows about its environment, passed in (only src/config reads process.env). */
export interface KubeEnvironment {
  /** The `KUBECONFIG` value: a list of files separated by the platform's path delimiter. */
  readonly kubeconfigEnv?: string | undefined;
  readonly homeDir?: string | undefined;
}

/** The name used for the implicit cluster when the config names none (kubectl's current context). */
export const IMPLICIT_CLUSTER = 'default';

/**
 * Resolves cluster names to loaded KubeConfigs: the runbook's parameter, else the alert's `cluster` label,
 * else `defaultCluster`, else the only configured cluster, else the implicit kubectl-style one.
 */
export class ClusterDirectory {
  private readonly loaded = new Map<string, KubeConfig>();

  constructor(
    readonly config: KubernetesConfig,
    private readonly env: KubeEnvironment = {},
  ) {}

  /** Picks the cluster name for a call. */
  select(requested?: string, alertLabels?: Readonly<Record<string, string>>): string {
    const names = Object.keys(this.config.clusters);
    const name =
      requested ??
      alertLabels?.['cluster'] ??
      this.config.defaultCluster ??
      (names.length === 1 ? names[0]! : IMPLICIT_CLUSTER);
    if (names.length > 0 && !names.includes(name)) {
      throw new ReboundError(
        'INVALID_PAYLOAD',
        `unknown cluster "${name}"; configured clusters: ${names.join(', ')}`,
        {
          path: 'cluster',
        },
      );
    }
    return name;
  }

  /** The KubeConfig for a cluster name (loaded once). */
  kubeConfig(name: string): KubeConfig {
    const cached = this.loaded.get(name);
    if (cached) return cached;
    const entry: ClusterConfig = this.config.clusters[name] ?? {};
    const kc = loadKubeConfig(entry, this.env);
    this.loaded.set(name, kc);
    return kc;
  }

  /**
   * Each configured cluster whose credentials cannot be loaded now (a kubeconfig that is missing or has no
   * such context), with the reason; in-cluster ones are left out (they load only inside a pod).
   */
  credentialProblems(): { readonly cluster: string; readonly message: string }[] {
    return Object.entries(this.config.clusters).flatMap(([cluster, entry]) => {
      if (entry.inCluster) return [];
      try {
        this.kubeConfig(cluster);
        return [];
      } catch (err) {
        return [{ cluster, message: (err as Error).message }];
      }
    });
  }

  /** Replica bounds for a Deployment. */
  scaleBounds(cluster: string, namespace: string, name: string): ScaleBounds {
    const matches = this.config.scaleBounds.filter(
      (b) =>
        b.namespace === namespace && b.name === name && (b.cluster === undefined || b.cluster === cluster),
    );
    const best = matches.find((b) => b.cluster === cluster) ?? matches[0];
    return best ?? this.config.defaultScaleBounds;
  }
}

/** Loads one cluster's credentials the way kubectl would. */
export function loadKubeConfig(entry: ClusterConfig, env: KubeEnvironment): KubeConfig {
  const kc = new KubeConfig();
  if (entry.inCluster) {
    kc.loadFromCluster();
    return kc;
  }
  const files = entry.kubeconfig ? [entry.kubeconfig] : kubeconfigFiles(env);
  if (files.length === 0) {
    throw new ReboundError(
      'INVALID_CONFIG',
      'no kubeconfig found: set kubernetes.clusters.<name>.kubeconfig, export KUBECONFIG, or create ~/.kube/config',
    );
  }
  mergeFiles(kc, files);
  if (entry.context) {
    if (!kc.getContextObject(entry.context)) {
      throw new ReboundError('INVALID_CONFIG', `context "${entry.context}" is not in ${files.join(', ')}`);
    }
    kc.setCurrentContext(entry.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new ReboundError(
      'INVALID_CONFIG',
      `${files.join(', ')} has no current-context; set kubernetes.clusters.<name>.context`,
    );
  }
  return kc;
}

/** `KUBECONFIG` is a path list; missing files are skipped like kubectl; without it, ~/.kube/config. */
export function kubeconfigFiles(env: KubeEnvironment): string[] {
  if (env.kubeconfigEnv) {
    return env.kubeconfigEnv.split(delimiter).filter((f) => f !== '' && existsSync(f));
  }
  const home = env.homeDir;
  const fallback = home ? join(home, '.kube', 'config') : undefined;
  return fallback && existsSync(fallback) ? [fallback] : [];
}

/** kubectl's merge rule: the first file to define a cluster, user or context (or current-context) wins. */
function mergeFiles(kc: KubeConfig, files: readonly string[]): void {
  const clusters = new Map<string, Cluster>();
  const users = new Map<string, User>();
  const contexts = new Map<string, Context>();
  let currentContext = '';
  for (const file of files) {
    const one = new KubeConfig();
    try {
      one.loadFromFile(file);
    } catch (err) {
      throw new ReboundError('INVALID_CONFIG', `cannot read kubeconfig ${file}: ${(err as Error).message}`);
    }
    for (const c of one.getClusters()) if (!clusters.has(c.name)) clusters.set(c.name, c);
    for (const u of one.getUsers()) if (!users.has(u.name)) users.set(u.name, u);
    for (const c of one.getContexts()) if (!contexts.has(c.name)) contexts.set(c.name, c);
    if (!currentContext && one.getCurrentContext()) currentContext = one.getCurrentContext();
  }
  kc.loadFromOptions({
    clusters: [...clusters.values()],
    users: [...users.values()],
    contexts: [...contexts.values()],
    currentContext,
  });
}
