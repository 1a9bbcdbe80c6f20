import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import type { ActionContext, ActionResult, TargetRef, WriteRequest } from '../types.ts';
import { K8sSession } from './client.ts';
import type { ClusterDirectory } from './config.ts';
import { K8sActionError } from './errors.ts';

/** What every Kubernetes action needs from the composition root. */
export interface K8sActionDeps {
  readonly clusters: ClusterDirectory;
  /** Waits between polls; tests pass a fast one. Defaults to a timer that honours the abort signal. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Parameters naming one namespaced object; `cluster` is chosen as described in ClusterDirectory.select. */
/**
 * A pod's termination grace period, 1 s or more. 0 asks the API server to remove the pod at once, without
 * waiting for the kubelet to stop its containers (a StatefulSet could then run two pods of one identity):
 * kubectl only sends it with --force, and Rebound never force-deletes.
 */
export const gracePeriodSeconds = z
  .int()
  .min(1, '0 would force-delete the pod without waiting for its containers to stop; give 1 or more')
  .optional();

export const namespacedRef = {
  cluster: z
    .string()
    .min(1)
    .optional()
    .describe('cluster name from kubernetes.clusters; default: the configured default'),
  namespace: z.string().min(1).default('default'),
  name: z.string().min(1),
};

export interface OpenSession {
  readonly cluster: string;
  readonly session: K8sSession;
}

export function openSession(
  deps: K8sActionDeps,
  cluster: string | undefined,
  ctx: ActionContext,
): OpenSession {
  const name = deps.clusters.select(cluster);
  const session = new K8sSession(
    deps.clusters.kubeConfig(name),
    {
      shadow: ctx.shadow,
      preflightDryRun: deps.clusters.config.preflightDryRun,
      requestTimeoutMs: deps.clusters.config.requestTimeoutMs,
    },
    ctx.signal,
    ctx.onChange,
  );
  return { cluster: name, session };
}

export function targetOf(
  deps: K8sActionDeps,
  params: { cluster?: string | undefined; namespace?: string; name: string },
  kind: string,
): TargetRef {
  return {
    cluster: deps.clusters.select(params.cluster),
    ...(params.namespace === undefined ? {} : { namespace: params.namespace }),
    kind,
    name: params.name,
  };
}

export function result<R>(output: R, writes: readonly WriteRequest[], noop = false): ActionResult<R> {
  return { output, writes: [...writes], ...(noop ? { noop: true } : {}) };
}

/** RFC 3339 with second precision, as Go's time.RFC3339 prints it (kubectl's restartedAt format). */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export async function pause(deps: K8sActionDeps, ms: number, signal: AbortSignal): Promise<void> {
  if (deps.sleep) return deps.sleep(ms, signal);
  try {
    await delay(ms, undefined, { signal });
  } catch {
    throw new K8sActionError('the action was cancelled while waiting', {
      status: 0,
      reason: 'Cancelled',
      retryable: false,
    });
  }
}

/** Deadline from a timeout in seconds, measured on the action's clock. */
export function deadlineOf(ctx: ActionContext, timeoutSeconds: number): number {
  return ctx.now().getTime() + timeoutSeconds * 1000;
}

export function timedOut(message: string): K8sActionError {
  // Waiting longer (or again later) may succeed, so a runbook Retry can help.
  return new K8sActionError(message, { status: 0, reason: 'Timeout', retryable: true });
}

/** Plain JSON of a client-node model (drops undefined fields, Dates become strings). */
export function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
