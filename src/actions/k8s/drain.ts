import type { V1Eviction, V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import type { ActionContext, ActionDefinition } from '../types.ts';
import type { K8sSession } from './client.ts';
import { K8sActionError, refused } from './errors.ts';
import { setUnschedulable } from './nodes.ts';
import {
  deadlineOf,
  gracePeriodSeconds,
  openSession,
  pause,
  result,
  timedOut,
  targetOf,
  type K8sActionDeps,
} from './shared.ts';

export const drainParams = z
  .object({
    cluster: z.string().min(1).optional(),
    name: z.string().min(1).describe('node name'),
    timeoutSeconds: z.int().min(1).max(3600).default(300),
    /** Also evict pods no controller will recreate (kubectl drain --force). */
    force: z.boolean().default(false),
    /** Also evict pods using emptyDir volumes, whose data is lost (kubectl --delete-emptydir-data). */
    deleteEmptyDirData: z.boolean().default(false),
    gracePeriodSeconds,
  })
  .strict();
export type DrainParams = z.infer<typeof drainParams>;

export interface DrainOutput {
  readonly cluster: string;
  readonly name: string;
  readonly unschedulable: { readonly before: boolean; readonly after: true };
  /** `namespace/name` of each pod evicted (or, in shadow mode, that would be). */
  readonly evicted: readonly string[];
  readonly skipped: readonly { readonly pod: string; readonly reason: 'DaemonSet' | 'MirrorPod' }[];
  /** Eviction attempts refused with 429 (PodDisruptionBudget) and retried. */
  readonly blockedAttempts: number;
}

const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
const id = (p: V1Pod) => `${p.metadata?.namespace}/${p.metadata?.name}`;

const controllerOf = (pod: V1Pod) => pod.metadata?.ownerReferences?.find((o) => o.controller === true);
const finished = (pod: V1Pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
const mirror = (pod: V1Pod) => pod.metadata?.annotations?.[MIRROR_ANNOTATION] !== undefined;
/** `namespace/name` of the DaemonSet that controls a pod, if one does. */
const daemonSetOf = (pod: V1Pod) => {
  const controller = controllerOf(pod);
  return controller?.kind === 'DaemonSet' ? `${pod.metadata?.namespace}/${controller.name}` : undefined;
};

/**
 * kubectl drain's pod filters: DaemonSet and mirror pods stay; unmanaged and emptyDir pods need consent,
 * unless they have finished (Succeeded or Failed), which kubectl deletes without asking, DaemonSet pods
 * included. A pod of a DaemonSet that no longer exists (`orphanedDaemonSets`, `namespace/name`) is an
 * unmanaged pod: it needs consent, as kubectl's --force.
 */
export function classifyPods(
  pods: readonly V1Pod[],
  params: Pick<DrainParams, 'force' | 'deleteEmptyDirData'>,
  orphanedDaemonSets: ReadonlySet<string> = new Set(),
) {
  const evict: V1Pod[] = [];
  const skipped: DrainOutput['skipped'][number][] = [];
  const blockers: string[] = [];
  for (const pod of pods) {
    const controller = controllerOf(pod);
    const daemonSet = daemonSetOf(pod);
    if (mirror(pod)) skipped.push({ pod: id(pod), reason: 'MirrorPod' });
    else if (finished(pod)) evict.push(pod);
    else if (daemonSet !== undefined && orphanedDaemonSets.has(daemonSet)) {
      if (params.force) evict.push(pod);
      else
        blockers.push(
          `${id(pod)} belongs to DaemonSet ${daemonSet}, which no longer exists (set force to evict it)`,
        );
    } else if (daemonSet !== undefined) skipped.push({ pod: id(pod), reason: 'DaemonSet' });
    else if (!controller && !params.force)
      blockers.push(`${id(pod)} is not managed by a controller (set force to evict it)`);
    else if (pod.spec?.volumes?.some((v) => v.emptyDir) && !params.deleteEmptyDirData) {
      blockers.push(`${id(pod)} uses emptyDir local storage (set deleteEmptyDirData to evict it)`);
    } else evict.push(pod);
  }
  return { evict, skipped, blockers };
}

/** `k8s.drain`: cordon, evict through policy/v1 Eviction honouring PodDisruptionBudgets, wait until pods are gone. */
export function drainAction(deps: K8sActionDeps): ActionDefinition<DrainParams, DrainOutput> {
  return {
    name: 'k8s.drain',
    description:
      'Cordon a node and evict its pods through the Eviction API (kubectl drain --ignore-daemonsets).',
    mutating: true,
    reportsChanges: true,
    params: drainParams,
    target: (p) => targetOf(deps, p, 'Node'),
    async run(params, ctx) {
      const { cluster, session } = openSession(deps, params.cluster, ctx);
      const deadline = deadlineOf(ctx, params.timeoutSeconds);
      const listPods = async () =>
        (
          await session.read(`listing pods on node ${params.name}`, () =>
            session.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${params.name}` }),
          )
        ).items;
      /** Refuses pods that need consent; has the rails judge the pods to evict (allowlist, pauses). */
      const judge = async (pods: readonly V1Pod[], cordoned: boolean) => {
        const classified = classifyPods(pods, params, await missingDaemonSets(session, pods));
        if (classified.blockers.length > 0) {
          const left = cordoned
            ? ' (the node is left cordoned: uncordon it if it should take pods again)'
            : '';
          throw refused(
            'DrainBlocked',
            `cannot drain node ${params.name}: ${classified.blockers.join('; ')}${left}`,
          );
        }
        await ctx.alsoChanges?.(
          classified.evict.map((pod) => ({
            cluster,
            namespace: pod.metadata!.namespace!,
            kind: 'Pod',
            name: pod.metadata!.name!,
          })),
        );
        return classified;
      };
      // The pods are what a drain really changes: one that needs consent, or a namespace outside the
      // allowlist or paused, stops it here, before the node is cordoned.
      const first = await listPods();
      const { evict, skipped } = await judge(first, false);
      const { before } = await setUnschedulable(session, params.name, true);
      // A pod bound between that list and the cordon would stay on the node (kubectl lists after cordoning):
      // list again and judge and evict what is new.
      const seen = new Set(first.map((p) => p.metadata?.uid));
      const late = (await listPods()).filter((p) => !seen.has(p.metadata?.uid));
      if (late.length > 0) {
        const more = await judge(late, !session.shadow);
        evict.push(...more.evict);
        skipped.push(...more.skipped);
      }
      // The first eviction that fails for good stops the others (they would go on evicting after the action
      // reported failure and the guard let go of the node), and the error says what was already evicted.
      const stop = new AbortController();
      const signal = AbortSignal.any([ctx.signal, stop.signal]);
      const evictor = new Evictor(deps, session, { ...ctx, signal }, deadline, params.gracePeriodSeconds);
      // The first failure in time is the cause; the others it stopped only say "cancelled".
      let cause: { err: unknown } | undefined;
      const settled = await Promise.allSettled(
        evict.map((pod) =>
          evictor.evict(pod).catch((err: unknown) => {
            cause ??= { err };
            stop.abort(err);
            throw err;
          }),
        ),
      );
      if (cause) {
        const evicted = evict.filter((_, i) => {
          const s = settled[i]!;
          return s.status === 'fulfilled' && s.value === 'evicted';
        });
        throw withEvicted(cause.err, evicted);
      }
      const outcomes = settled.map((s) => (s as PromiseFulfilledResult<'evicted' | 'gone'>).value);
      if (!session.shadow) {
        await Promise.all(
          evict.filter((_, i) => outcomes[i] === 'evicted').map((pod) => evictor.waitGone(pod)),
        );
      }
      return result<DrainOutput>(
        {
          cluster,
          name: params.name,
          unschedulable: { before, after: true },
          evicted: evict.map(id),
          skipped,
          blockedAttempts: evictor.blocked,
        },
        session.writes,
      );
    },
  };
}

/**
 * The DaemonSets (`namespace/name`) that control running pods of the list but no longer exist: kubectl reads
 * each one, as a pod whose DaemonSet is gone is no DaemonSet pod any more.
 */
async function missingDaemonSets(session: K8sSession, pods: readonly V1Pod[]): Promise<Set<string>> {
  const wanted = new Set<string>();
  for (const pod of pods) {
    const daemonSet = daemonSetOf(pod);
    if (daemonSet !== undefined && !finished(pod) && !mirror(pod)) wanted.add(daemonSet);
  }
  const missing = new Set<string>();
  for (const daemonSet of wanted) {
    const [namespace, name] = daemonSet.split('/') as [string, string];
    try {
      await session.read(`reading daemonset ${daemonSet}`, () =>
        session.apps.readNamespacedDaemonSet({ namespace, name }),
      );
    } catch (err) {
      if (!(err instanceof K8sActionError && err.status === 404)) throw err;
      missing.add(daemonSet);
    }
  }
  return missing;
}

/** The failure of a drain, saying which pods it had evicted before it (they are not put back). */
function withEvicted(err: unknown, evicted: readonly V1Pod[]): unknown {
  if (!(err instanceof K8sActionError)) return err;
  const done = evicted.length > 0 ? evicted.map(id).join(', ') : 'none';
  return new K8sActionError(`${err.message}; evicted before the failure: ${done}`, {
    status: err.status,
    reason: err.reason,
    retryable: err.retryable,
    ...(err.retryAfterMs === undefined ? {} : { retryAfterMs: err.retryAfterMs }),
    apiStatus: err.apiStatus,
    cause: err,
  });
}

class Evictor {
  blocked = 0;

  constructor(
    private readonly deps: K8sActionDeps,
    private readonly session: K8sSession,
    private readonly ctx: ActionContext,
    private readonly deadline: number,
    private readonly gracePeriodSeconds: number | undefined,
  ) {}

  /** Posts the Eviction until accepted; 429 retries until the deadline, 404 means already gone. */
  async evict(pod: V1Pod): Promise<'evicted' | 'gone'> {
    const name = pod.metadata!.name!;
    const namespace = pod.metadata!.namespace!;
    const body: V1Eviction = {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name, namespace },
      ...(this.gracePeriodSeconds === undefined
        ? {}
        : { deleteOptions: { gracePeriodSeconds: this.gracePeriodSeconds } }),
    };
    for (;;) {
      try {
        await this.session.write(`evicting pod ${namespace}/${name}`, () =>
          this.session.core.createNamespacedPodEviction({ name, namespace, body }),
        );
        return 'evicted';
      } catch (err) {
        if (!(err instanceof K8sActionError)) throw err;
        if (err.status === 404) return 'gone';
        if (err.status === 500 && /more than one PodDisruptionBudget/i.test(err.message)) {
          // The API server's answer for a pod two budgets select: it never clears by itself (kubectl drain
          // fails on it too), so a Retry would only cordon again and evict what is left, to fail here again.
          throw new K8sActionError(
            `evicting pod ${namespace}/${name}: it is selected by more than one PodDisruptionBudget, which the ` +
              'Eviction API refuses; leave one budget per pod, then drain again',
            {
              status: 500,
              reason: 'MultiplePodDisruptionBudgets',
              retryable: false,
              apiStatus: err.apiStatus,
              cause: err,
            },
          );
        }
        if (err.status !== 429) throw err;
        this.blocked++;
        if (this.ctx.now().getTime() >= this.deadline) {
          throw timedOut(`eviction of ${namespace}/${name} still blocked at the deadline: ${err.message}`);
        }
        await pause(this.deps, this.deps.clusters.config.evictionRetryMs, this.ctx.signal);
      }
    }
  }

  /** Polls until the pod is gone: 404, or a pod of the same name with another UID (kubectl waitForDelete). */
  async waitGone(pod: V1Pod): Promise<void> {
    const name = pod.metadata!.name!;
    const namespace = pod.metadata!.namespace!;
    for (;;) {
      try {
        const current = await this.session.read(`checking pod ${namespace}/${name}`, () =>
          this.session.core.readNamespacedPod({ name, namespace }),
        );
        if (current.metadata?.uid !== pod.metadata?.uid) return;
      } catch (err) {
        if (err instanceof K8sActionError && err.status === 404) return;
        throw err;
      }
      if (this.ctx.now().getTime() >= this.deadline)
        throw timedOut(`pod ${namespace}/${name} was evicted but is still terminating at the deadline`);
      await pause(this.deps, this.deps.clusters.config.pollIntervalMs, this.ctx.signal);
    }
  }
}
