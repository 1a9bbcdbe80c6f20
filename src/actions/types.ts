import type { z } from 'zod';

/**
 * The contract between runbooks (Task states with `Resource: "rebound:<group>.<action>"`) and the code that
 * acts. Actions are pure of policy: guard rails (src/guard/) wrap every mutating action before it runs.
 */

/** What a mutating action acts on; guard rails lock, budget and allowlist by this. */
export interface TargetRef {
  readonly cluster: string;
  readonly namespace?: string;
  /** Kubernetes kind, e.g. `Deployment`, `Node`, `ConfigMap`, `Pod`. */
  readonly kind: string;
  readonly name: string;
}

/** One write request an action sent, or would have sent in shadow mode. */
export interface WriteRequest {
  readonly method: string;
  readonly path: string;
  readonly contentType?: string;
  readonly body?: unknown;
}

export interface ActionContext {
  /** Derived from (execution, state, attempt): the same key never acts twice. */
  readonly idempotencyKey: string;
  /** Shadow mode: reads happen, writes are recorded in `writes` and not sent. */
  readonly shadow: boolean;
  readonly signal: AbortSignal;
  /** Links event → rule → execution → action → incident in logs and the timeline. */
  readonly correlationId?: string;
  readonly incidentId?: string;
  /** Name of the runbook whose Task state calls the action (per-runbook shadow mode, pauses). */
  readonly runbook?: string;
  /** The execution whose Task state calls the action; guard rails let it put back its own changes. */
  readonly executionId?: string;
  /** The callback token of a `.waitForTaskToken` task: records of the action (the timeline) hide it. */
  readonly taskToken?: string;
  /** Labels of the alert or incident that started the runbook (pauses match on them). */
  readonly labels?: Readonly<Record<string, string>>;
  readonly now: () => Date;
  /**
   * Asks the guard rails about objects a mutating action changes besides its target — the pods `k8s.drain`
   * evicts from its Node — before it changes anything: each must be inside the allowlist and, when acting
   * for real, under no pause. Rejects with the rails' refusal. Absent when no guard rails run the action.
   */
  readonly alsoChanges?: (targets: readonly TargetRef[]) => Promise<void>;
  /**
   * Told each time the action sends a write that may have changed something: the server accepted it, failed
   * after receiving it (5xx), or never answered. A write it refused outright (4xx) changed nothing. Actions
   * that call it declare `reportsChanges`.
   */
  readonly onChange?: () => void;
}

export interface ActionResult<R = unknown> {
  /** What changed, before → after, in the action's own terms. */
  readonly output: R;
  /** Every write request sent (or, in shadow mode, that would have been sent). */
  readonly writes: readonly WriteRequest[];
  /** True when the action found nothing to do (e.g. rollback already at the revision). */
  readonly noop?: boolean;
}

export interface ActionDefinition<P = unknown, R = unknown> {
  /** `group.action`, e.g. `k8s.restart`; the task resource is `rebound:` + name. */
  readonly name: string;
  readonly description: string;
  /** Mutating actions pass guard rails first; the others (verify.*, notifications, k8s.waitRollout) do not. */
  readonly mutating: boolean;
  /**
   * The action changes nothing anywhere, in Rebound or outside (a probe, a wait): cut off, it loses nothing
   * and is simply asked again, so a graceful stop does not wait for it. Notifications are not read-only.
   */
  readonly readOnly?: boolean;
  readonly params: z.ZodType<P>;
  /** The object a mutating action changes, for locks, budgets and allowlists. */
  target?(params: P): TargetRef;
  /**
   * The action calls `ctx.onChange` for every write that may have changed something, so a failed run that
   * never did changed nothing: the guard rails then give back the budget it took.
   */
  readonly reportsChanges?: boolean;
  run(params: P, ctx: ActionContext): Promise<ActionResult<R>>;
}

/** Anything that can run actions by name: the registry, or the registry behind guard rails. */
export interface ActionRunner {
  run(name: string, params: unknown, ctx: ActionContext): Promise<ActionResult>;
  has(name: string): boolean;
  /** Why `name` cannot run here and what to do about it, when the runner knows better than "not registered". */
  describeMissing?(name: string): string;
  /** True when `name` changes nothing anywhere, so cutting it off loses nothing (unknown: false). */
  readOnly?(name: string): boolean;
}
