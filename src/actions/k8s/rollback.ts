import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { z } from 'zod';
import type { ActionDefinition } from '../types.ts';
import { refused } from './errors.ts';
import {
  chooseRevision,
  currentReplicaSet,
  ownedBy,
  REVISION_ANNOTATION,
  REVISION_HISTORY,
  revisionOf,
  rollbackAnnotations,
  rollbackPatch,
  sameTemplate,
  templateWithoutHash,
} from './revision.ts';
import { namespacedRef, openSession, plain, result, targetOf, type K8sActionDeps } from './shared.ts';

export const rollbackParams = z
  .object({
    ...namespacedRef,
    /** Revision to go back to; default: the previous one. */
    toRevision: z.int().min(1).optional(),
  })
  .strict();
export type RollbackParams = z.infer<typeof rollbackParams>;

export interface RollbackOutput {
  readonly cluster: string;
  readonly namespace: string;
  readonly name: string;
  /** The Deployment's revision before, and the revision whose template it now runs. */
  readonly revision: { readonly before: number | null; readonly after: number };
  readonly images: { readonly before: readonly string[]; readonly after: readonly string[] };
}

/** `k8s.rollback`: kubectl rollout undo — JSON patch of the template and annotations from a ReplicaSet. */
export function rollbackAction(deps: K8sActionDeps): ActionDefinition<RollbackParams, RollbackOutput> {
  return {
    name: 'k8s.rollback',
    description: 'Roll a Deployment back to the previous (or a given) revision, as kubectl rollout undo.',
    mutating: true,
    reportsChanges: true,
    params: rollbackParams,
    target: (p) => targetOf(deps, p, 'Deployment'),
    async run(params, ctx) {
      const { cluster, session } = openSession(deps, params.cluster, ctx);
      const { namespace, name } = params;
      const dep = plain(
        await session.read(`reading deployment ${namespace}/${name}`, () =>
          session.apps.readNamespacedDeployment({ namespace, name }),
        ),
      );
      if (dep.spec?.paused) {
        throw refused(
          'Paused',
          `you cannot rollback a paused deployment ${namespace}/${name}; resume it first with 'kubectl rollout resume' and try again`,
        );
      }
      const selector = Object.entries(dep.spec?.selector.matchLabels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      const list = await session.read(`listing replicasets of ${namespace}/${name}`, () =>
        session.apps.listNamespacedReplicaSet({
          namespace,
          ...(selector ? { labelSelector: selector } : {}),
        }),
      );
      const owned = ownedBy(dep, plain(list.items));
      const choice = chooseRevision(name, owned, params.toRevision);
      if (!choice.ok) throw refused(choice.reason, `${choice.message} (${namespace}/${name})`);
      // kubectl's "previous" after an undo is the release the undo replaced: a second incident, or a retry
      // of one whose answer was lost, would roll forward to it. The controller marks a ReplicaSet brought back
      // this way with the revisions it had before; rolling back from one is left to a person.
      const current = currentReplicaSet(owned);
      const broughtBack = current?.metadata?.annotations?.[REVISION_HISTORY];
      if (params.toRevision === undefined && broughtBack) {
        throw refused(
          'AlreadyRolledBack',
          `the current revision ${revisionOf(current!)} of ${namespace}/${name} brought back an earlier pod ` +
            `template (that of revision ${broughtBack}), so the previous revision ${choice.revision} is the ` +
            'release it replaced, and rolling back would bring that back; give toRevision to choose a revision',
        );
      }
      const template = templateWithoutHash(choice.replicaSet);
      const before = Number(dep.metadata?.annotations?.[REVISION_ANNOTATION] ?? NaN);
      const output: RollbackOutput = {
        cluster,
        namespace,
        name,
        revision: { before: Number.isFinite(before) ? before : null, after: choice.revision },
        images: {
          before: dep.spec?.template.spec?.containers.map((c) => c.image ?? '') ?? [],
          after: template.spec?.containers.map((c) => c.image ?? '') ?? [],
        },
      };
      // kubectl: "skipped rollback (current template already matches revision N)".
      if (sameTemplate(template, dep.spec?.template)) return result(output, session.writes, true);
      // Landed but unanswered, a retry would see the restored revision as current and undo the undo.
      await session.writeConfirmed(
        `rolling back deployment ${namespace}/${name} to revision ${choice.revision}`,
        () =>
          session.apps.patchNamespacedDeployment(
            { namespace, name, body: rollbackPatch(template, rollbackAnnotations(dep, choice.replicaSet)) },
            setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
          ),
        async () => {
          const now = await session.read(`re-reading deployment ${namespace}/${name}`, () =>
            session.apps.readNamespacedDeployment({ namespace, name }),
          );
          return sameTemplate(template, plain(now).spec?.template);
        },
      );
      return result(output, session.writes);
    },
  };
}
