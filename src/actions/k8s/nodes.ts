import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { z } from 'zod';
import type { ActionDefinition } from '../types.ts';
import { openSession, result, targetOf, type K8sActionDeps } from './shared.ts';
import type { K8sSession } from './client.ts';

export const nodeParams = z
  .object({
    cluster: z.string().min(1).optional(),
    name: z.string().min(1).describe('node name'),
  })
  .strict();
export type NodeParams = z.infer<typeof nodeParams>;

export interface CordonOutput {
  readonly cluster: string;
  readonly name: string;
  readonly unschedulable: { readonly before: boolean; readonly after: boolean };
}

/**
 * kubectl's CordonHelper sends the two-way strategic merge patch between the old and new Node:
 * `{"spec":{"unschedulable":true}}` to cordon, and `{"spec":{"unschedulable":null}}` to uncordon
 * (the field is omitempty, so `false` disappears and the patch deletes it).
 */
export async function setUnschedulable(
  session: K8sSession,
  name: string,
  desired: boolean,
): Promise<{ before: boolean; changed: boolean }> {
  const node = await session.read(`reading node ${name}`, () => session.core.readNode({ name }));
  const before = node.spec?.unschedulable === true;
  if (before === desired) return { before, changed: false };
  await session.write(`${desired ? 'cordoning' : 'uncordoning'} node ${name}`, () =>
    session.core.patchNode(
      { name, body: { spec: { unschedulable: desired ? true : null } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    ),
  );
  return { before, changed: true };
}

function cordonLike(deps: K8sActionDeps, desired: boolean): ActionDefinition<NodeParams, CordonOutput> {
  return {
    name: desired ? 'k8s.cordon' : 'k8s.uncordon',
    description: desired
      ? 'Mark a node unschedulable (kubectl cordon).'
      : 'Mark a node schedulable again (kubectl uncordon).',
    mutating: true,
    reportsChanges: true,
    params: nodeParams,
    target: (p) => targetOf(deps, p, 'Node'),
    async run(params, ctx) {
      const { cluster, session } = openSession(deps, params.cluster, ctx);
      const { before, changed } = await setUnschedulable(session, params.name, desired);
      return result<CordonOutput>(
        { cluster, name: params.name, unschedulable: { before, after: desired } },
        session.writes,
        !changed,
      );
    },
  };
}

export const cordonAction = (deps: K8sActionDeps) => cordonLike(deps, true);
export const uncordonAction = (deps: K8sActionDeps) => cordonLike(deps, false);
