import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { z } from 'zod';
import { namespacedRef, openSession, result, type K8sActionDeps } from '../k8s/shared.ts';
import type { ActionDefinition } from '../types.ts';

export const configSetParams = z
  .object({
    ...namespacedRef,
    /** Key in the ConfigMap's `data`. */
    key: z.string().regex(/^[-._a-zA-Z0-9]+$/, 'a ConfigMap key is alphanumerics, "-", "_" or "."'),
    /** The new value; null removes the key (how a compensating step restores a key that was absent). */
    value: z.string().nullable(),
  })
  // No `restartDeployment`: guard rails judge one target per action, and a restart folded in here would
  // get past the Deployment's allowlist, lock and budget. Runbooks restart with their own k8s.restart step.
  .strict();
export type ConfigSetParams = z.infer<typeof configSetParams>;

export interface ConfigSetOutput {
  readonly cluster: string;
  readonly namespace: string;
  /** The ConfigMap. */
  readonly name: string;
  readonly key: string;
  /** null: the key is absent. `before` is what a compensating step sets to undo this one. */
  readonly value: { readonly before: string | null; readonly after: string | null };
}

/**
 * `config.set`: set (or, with null, remove) a runtime flag (e.g. degraded mode) as a ConfigMap key. The merge patch carries the
 * resourceVersion that was read, so a concurrent edit makes it fail with a retryable 409 instead of the
 * result reporting a `before` that was never true.
 */
export function configSetAction(deps: K8sActionDeps): ActionDefinition<ConfigSetParams, ConfigSetOutput> {
  return {
    name: 'config.set',
    description: 'Set a key of a ConfigMap (a runtime flag); restart its readers with k8s.restart.',
    mutating: true,
    reportsChanges: true,
    params: configSetParams,
    target: (p) => ({
      cluster: deps.clusters.select(p.cluster),
      namespace: p.namespace,
      kind: 'ConfigMap',
      name: p.name,
    }),
    async run(params, ctx) {
      const { cluster, session } = openSession(deps, params.cluster, ctx);
      const { namespace, name, key, value } = params;
      const cm = await session.read(`reading configmap ${namespace}/${name}`, () =>
        session.core.readNamespacedConfigMap({ namespace, name }),
      );
      const before = cm.data?.[key] ?? null;
      const base = { cluster, namespace, name, key, value: { before, after: value } };
      if (before !== value) {
        // Landed but unanswered, a retry would read the new value and report it as `before`.
        await session.writeConfirmed(
          `setting ${key} in configmap ${namespace}/${name}`,
          () =>
            session.core.patchNamespacedConfigMap(
              {
                namespace,
                name,
                body: { metadata: { resourceVersion: cm.metadata?.resourceVersion }, data: { [key]: value } },
              },
              // JSON merge patch (RFC 7386): a null value removes the key.
              setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
            ),
          async () => {
            const now = await session.read(`re-reading configmap ${namespace}/${name}`, () =>
              session.core.readNamespacedConfigMap({ namespace, name }),
            );
            return (now.data?.[key] ?? null) === value;
          },
        );
      }
      return result<ConfigSetOutput>(base, session.writes, before === value);
    },
  };
}
