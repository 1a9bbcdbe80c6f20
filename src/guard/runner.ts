import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import { ulid } from 'ulid';
import type { ActionDefinition, ActionResult, ActionRunner, TargetRef } from '../actions/types.ts';
import { ReboundError } from '../errors.ts';
import { allowlistRefusal } from './allowlist.ts';
import { Automation, breakerView, type BreakerView } from './automation.ts';
import type { GuardConfig } from './config.ts';
import { GuardRefusedError, type GuardRefusalOptions, type GuardRule } from './errors.ts';
import { TargetLocks, type HeldLock } from './lock.ts';
import { GuardMetrics } from './metrics.ts';
import { describePause, pauseMatches, type PauseSubject } from './pause.ts';
import type { GuardStore, IncidentReader } from './port.ts';
import { targetKey } from './target.ts';
import type { GuardedActionContext, GuardVerdict, VerdictOutcome } from './verdict.ts';

export interface GuardedRunnerOptions {
  /** The runner that really acts (the action registry). */
  readonly inner: ActionRunner;
  /**
   * Definitions of the actions `inner` runs (which mutate, their parameter schema, their target): a list,
   * or a lookup such as `(name) => (registry.has(name) ? registry.get(name) : undefined)`.
   */
  readonly actions: Iterable<ActionDefinition> | ((name: string) => ActionDefinition | undefined);
  readonly store: GuardStore;
  readonly config: GuardConfig;
  readonly incidents: IncidentReader;
  readonly now?: () => Date;
  /** Receives every verdict, in rule order, before the action acts; awaited, so the timeline is durable. */
  readonly onVerdict?: (verdict: GuardVerdict) => void | Promise<void>;
  readonly registry?: Registry;
  /** Store failures after the action already acted (they must not turn a success into a retry). */
  readonly onStoreError?: (err: unknown, what: string) => void;
  /** Names this process in lock owners, e.g. the pod name. */
  readonly instanceId?: string;
  /**
   * Set when `config` is shadow-until-configured (effectiveGuardConfig): the settings still missing. The
   * verdicts then say so, instead of quoting the opened allowlist and forced global shadow as if configured.
   */
  readonly shadowUntilConfigured?: readonly string[];
}

/** One mutating invocation as the rails see it. */
interface Invocation {
  readonly name: string;
  readonly params: unknown;
  readonly ctx: GuardedActionContext;
  readonly target: TargetRef;
  readonly key: string;
  readonly scope: string;
  readonly owner: string;
  /** The action tells of each write that may have changed something (ActionDefinition.reportsChanges). */
  readonly reportsChanges: boolean;
}

/**
 * The guard rails in front of every mutating action, applied in this order: allowlist, shadow, idempotency,
 * per-target lock, budget, circuit breaker, pause, firing-only. Read-only actions pass straight through.
 */
export class GuardedRunner implements ActionRunner {
  readonly automation: Automation;
  private readonly definitionOf: (name: string) => ActionDefinition | undefined;
  private readonly locks: TargetLocks;
  private readonly now: () => Date;
  private readonly metrics: GuardMetrics | undefined;
  private readonly instanceId: string;

  constructor(private readonly options: GuardedRunnerOptions) {
    const { actions } = options;
    if (typeof actions === 'function') {
      this.definitionOf = actions;
    } else {
      const byName = new Map([...actions].map((d) => [d.name, d]));
      this.definitionOf = (name) => byName.get(name);
    }
    this.now = options.now ?? (() => new Date());
    this.automation = new Automation(options.store, options.config, this.now);
    this.locks = new TargetLocks(options.store, options.config.lock, this.now);
    this.instanceId = options.instanceId ?? `${hostname()}:${process.pid}`;
    this.metrics =
      options.registry === undefined
        ? undefined
        : new GuardMetrics(
            options.registry,
            {
              breakers: () => options.store.listBreakers(),
              budgets: () => this.automation.budgets.list(this.now().getTime()),
              pauses: () => options.store.listPauses(this.now().getTime()),
            },
            options.config.budget.maxActions,
          );
  }

  has(name: string): boolean {
    return this.options.inner.has(name);
  }

  readOnly(name: string): boolean {
    return this.definitionOf(name)?.readOnly === true;
  }

  async run(name: string, params: unknown, ctx: GuardedActionContext): Promise<ActionResult> {
    const definition = this.definitionOf(name);
    if (definition === undefined || !definition.mutating) return this.options.inner.run(name, params, ctx);
    const inv = this.invocation(definition, params, ctx);
    await this.checkAllowlist(inv);
    if (await this.checkShadow(inv)) {
      const alsoChanges = (targets: readonly TargetRef[]) => this.checkAlsoChanged(inv, targets, false);
      return this.options.inner.run(name, params, { ...ctx, shadow: true, alsoChanges });
    }
    const replay = await this.checkIdempotency(inv);
    if (replay !== undefined) return replay;
    const lock = await this.acquireLock(inv);
    try {
      const recorded = await this.recheckIdempotency(inv);
      if (recorded !== undefined) return recorded;
      await this.checkBudget(inv);
      await this.checkBreaker(inv);
      await this.checkPause(inv);
      await this.checkFiring(inv);
      return await this.act(inv, lock);
    } finally {
      // A failed release only delays the next holder until the lease expires; it must not fail the action.
      await lock
        .release()
        .catch((err: unknown) => this.options.onStoreError?.(err, `releasing lock ${inv.key}`));
    }
  }

  /**
   * Records a remediation outcome (the closed loop calls this after verification, or when it escalates). A
   * failure of an execution already counted for the scope — its action failed, perhaps on every retry — is
   * not counted again: one failed remediation is one outcome, however many attempts it took.
   */
  async recordOutcome(
    scope: string | TargetRef,
    success: boolean,
    executionId?: string,
  ): Promise<BreakerView> {
    const key = typeof scope === 'string' ? scope : this.automation.scopeOf(scope);
    if (!success && !(await this.firstFailure(key, executionId)))
      return breakerView(await this.automation.breakers.get(key));
    return this.automation.recordOutcome(key, success);
  }

  /**
   * Whether this is the first failure of the execution counted for the scope (always, without an execution):
   * the marker `failed/<execution>/<scope>` is claimed once.
   */
  private async firstFailure(scope: string, executionId: string | undefined): Promise<boolean> {
    if (executionId === undefined) return true;
    return this.claimMarker(`failed/${executionId}/${scope}`, 'breaker', scope, this.instanceId);
  }

  /**
   * Claims a marker kept in the idempotency records as long as they are (`changed/…`, `failed/…`): a completed
   * record nothing replays. True when this call created it.
   */
  private claimMarker(key: string, action: string, targetKey: string, owner: string): Promise<boolean> {
    const at = this.now().getTime();
    return this.options.store.claimIdempotency({
      key,
      action,
      targetKey,
      state: 'completed',
      owner,
      startedAt: at,
      completedAt: at,
      expiresAt: at + this.options.config.idempotency.retention,
    });
  }

  /** Gives back the budget use taken at `usedAt` by an action that changed nothing. */
  private async giveBackBudget(inv: Invocation, usedAt: number): Promise<void> {
    await this.automation.budgets
      .release(inv.key, usedAt)
      .catch((err: unknown) => this.options.onStoreError?.(err, `giving back the budget of ${inv.key}`));
  }

  /** Deletes expired idempotency records, dead locks, ended pauses and budgets outside the window. */
  prune(): Promise<number> {
    const now = this.now().getTime();
    return this.options.store.prune(now, now - this.options.config.budget.window);
  }

  private invocation(definition: ActionDefinition, params: unknown, ctx: GuardedActionContext): Invocation {
    const parsed = definition.params.safeParse(params ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ReboundError(
        'INVALID_PAYLOAD',
        `parameters of ${definition.name} are invalid: ${issue?.message ?? 'see details'}`,
        { path: issue?.path.join('.') ?? '', details: parsed.error.issues },
      );
    }
    if (definition.target === undefined) {
      throw new ReboundError('INVALID_DEFINITION', `mutating action ${definition.name} declares no target()`);
    }
    const target = definition.target(parsed.data);
    return {
      name: definition.name,
      params,
      ctx,
      target,
      key: targetKey(target),
      scope: this.automation.scopeOf(target),
      owner: `${this.instanceId}/${ulid()}`,
      reportsChanges: definition.reportsChanges === true,
    };
  }

  private async verdict(
    inv: Invocation,
    rule: GuardRule,
    outcome: VerdictOutcome,
    reason: string,
  ): Promise<void> {
    this.metrics?.verdict(rule, outcome === 'replayed' ? 'allowed' : outcome);
    await this.options.onVerdict?.({
      action: inv.name,
      target: inv.target,
      rule,
      outcome,
      reason,
      idempotencyKey: inv.ctx.idempotencyKey,
      ...(inv.ctx.correlationId === undefined ? {} : { correlationId: inv.ctx.correlationId }),
      ...(inv.ctx.incidentId === undefined ? {} : { incidentId: inv.ctx.incidentId }),
      at: this.now().toISOString(),
    });
  }

  private async refuse(inv: Invocation, error: GuardRefusedError): Promise<never> {
    this.metrics?.verdict(error.rule, 'refused');
    await this.options.onVerdict?.({
      action: inv.name,
      target: inv.target,
      rule: error.rule,
      outcome: 'refused',
      reason: error.reason,
      retryable: error.retryable,
      idempotencyKey: inv.ctx.idempotencyKey,
      ...(inv.ctx.correlationId === undefined ? {} : { correlationId: inv.ctx.correlationId }),
      ...(inv.ctx.incidentId === undefined ? {} : { incidentId: inv.ctx.incidentId }),
      at: this.now().toISOString(),
    });
    throw error;
  }

  private refusal(
    rule: GuardRule,
    retryable: boolean,
    reason: string,
    options?: GuardRefusalOptions,
  ): GuardRefusedError {
    return new GuardRefusedError(rule, retryable, reason, options);
  }

  private async checkAllowlist(inv: Invocation): Promise<void> {
    const missing = this.options.shadowUntilConfigured;
    if (missing)
      return this.verdict(inv, 'allowlist', 'allowed', `not consulted: ${untilConfigured(missing)}`);
    const refusal = allowlistRefusal(inv.target, this.options.config.allowlist);
    if (refusal !== undefined) await this.refuse(inv, this.refusal('allowlist', false, refusal));
    await this.verdict(inv, 'allowlist', 'allowed', `${inv.key} is in the allowlist`);
  }

  private async checkShadow(inv: Invocation): Promise<boolean> {
    const { global, runbooks } = this.options.config.shadow;
    const missing = this.options.shadowUntilConfigured;
    const why = missing
      ? untilConfigured(missing)
      : global
        ? 'global shadow mode (guard.shadow.global)'
        : inv.ctx.runbook !== undefined && runbooks.includes(inv.ctx.runbook)
          ? `runbook ${inv.ctx.runbook} is in guard.shadow.runbooks`
          : inv.ctx.shadow
            ? 'the caller asked for shadow mode'
            : undefined;
    if (why === undefined) {
      await this.verdict(inv, 'shadow', 'allowed', 'shadow mode off: acting for real');
      return false;
    }
    // Shadow runs touch nothing, so they neither record idempotency nor take locks, budget or breaker.
    await this.verdict(inv, 'shadow', 'shadowed', `${why}: writes are recorded, not sent`);
    return true;
  }

  private async replayOf(inv: Invocation, when: string): Promise<ActionResult | undefined> {
    const record = await this.options.store.getIdempotency(inv.ctx.idempotencyKey);
    if (record === undefined) return undefined;
    if (record.action !== inv.name || record.targetKey !== inv.key) {
      const reason =
        `idempotency key ${inv.ctx.idempotencyKey} was already used by ${record.action} on ${record.targetKey}; ` +
        'a key must name one invocation (execution, state, attempt)';
      return this.refuse(inv, this.refusal('idempotency', false, reason));
    }
    if (record.state !== 'completed') return undefined;
    const at = new Date(record.completedAt ?? record.startedAt).toISOString();
    await this.verdict(inv, 'idempotency', 'replayed', `${when}: replayed the result recorded at ${at}`);
    return record.result as ActionResult;
  }

  private async checkIdempotency(inv: Invocation): Promise<ActionResult | undefined> {
    const replay = await this.replayOf(inv, 'key already executed');
    if (replay !== undefined) return replay;
    const running = await this.options.store.getIdempotency(inv.ctx.idempotencyKey);
    const reason =
      running === undefined
        ? `key ${inv.ctx.idempotencyKey} has not acted yet`
        : `key ${inv.ctx.idempotencyKey} is being executed by ${running.owner}; waiting for its lock`;
    await this.verdict(inv, 'idempotency', 'allowed', reason);
    return undefined;
  }

  /** After waiting for the lock: the holder may have been the same key, which has now finished or died. */
  private async recheckIdempotency(inv: Invocation): Promise<ActionResult | undefined> {
    const replay = await this.replayOf(inv, 'key executed while waiting for the lock');
    if (replay !== undefined) return replay;
    const record = await this.options.store.getIdempotency(inv.ctx.idempotencyKey);
    if (record?.state === 'started') {
      const reason =
        `key ${inv.ctx.idempotencyKey} started at ${new Date(record.startedAt).toISOString()} (${record.owner}) ` +
        'and never recorded a result: its holder died or was stopped mid-action, so the outcome is unknown. ' +
        `Check ${inv.key} by hand, then rerun with a new attempt.`;
      return this.refuse(inv, this.refusal('idempotency', false, reason));
    }
    return undefined;
  }

  private async acquireLock(inv: Invocation): Promise<HeldLock> {
    let lock: HeldLock;
    try {
      lock = await this.locks.acquire(inv.key, inv.owner, inv.ctx.signal);
    } catch (err) {
      if (err instanceof GuardRefusedError) return this.refuse(inv, err);
      throw err;
    }
    await this.verdict(inv, 'lock', 'allowed', `holding the lock on ${inv.key}`);
    return lock;
  }

  private async checkBudget(inv: Invocation): Promise<void> {
    const usage = await this.automation.budgets.peek(inv.key, this.now().getTime());
    const window = `${this.options.config.budget.window / 60_000} min`;
    if (usage.used >= usage.limit) {
      const next = new Date(usage.nextSlotAt ?? this.now().getTime()).toISOString();
      const reason =
        `budget spent: ${usage.used} of ${usage.limit} actions on ${inv.key} in the last ${window} ` +
        `(guard.budget); automation stops here and escalates. Next slot at ${next}.`;
      await this.refuse(inv, this.refusal('budget', false, reason, { details: { ...usage } }));
    }
    await this.verdict(
      inv,
      'budget',
      'allowed',
      `${usage.used} of ${usage.limit} actions used in the last ${window}`,
    );
  }

  private async checkBreaker(inv: Invocation): Promise<void> {
    const breaker = await this.automation.breakers.get(inv.scope);
    if (breaker.state === 'open') {
      const reason =
        `circuit breaker for ${inv.scope} is open since ${new Date(breaker.openedAt ?? 0).toISOString()}: ` +
        `${breaker.openedReason ?? 'too many failed remediations'}. ` +
        `An operator resets it with \`rebound automation resume --scope ${inv.scope}\`.`;
      await this.refuse(inv, this.refusal('breaker', false, reason));
    }
    await this.verdict(inv, 'breaker', 'allowed', `circuit breaker for ${inv.scope} is closed`);
  }

  private async checkPause(inv: Invocation): Promise<void> {
    const pauses = await this.options.store.listPauses(this.now().getTime());
    const pause = pauses.find((p) => pauseMatches(p, this.pauseSubject(inv)));
    if (pause !== undefined) {
      const reason = `automation paused by ${describePause(pause)}; notify instead, or \`rebound automation resume\``;
      await this.refuse(inv, this.refusal('pause', false, reason, { details: { pauseId: pause.id } }));
    }
    await this.verdict(inv, 'pause', 'allowed', 'no pause matches');
  }

  /**
   * The objects an action changes besides its target (ActionContext.alsoChanges): the allowlist, and when
   * acting for real the pauses, judge each of them as they judge the target.
   */
  private async checkAlsoChanged(
    inv: Invocation,
    targets: readonly TargetRef[],
    acting: boolean,
  ): Promise<void> {
    if (targets.length === 0) return;
    const others = describeTargets(targets);
    const alsoChanges = (t: TargetRef) => `${inv.name} on ${inv.key} would also change ${targetKey(t)}`;
    if (this.options.shadowUntilConfigured === undefined) {
      for (const target of targets) {
        const refusal = allowlistRefusal(target, this.options.config.allowlist);
        if (refusal !== undefined)
          await this.refuse(inv, this.refusal('allowlist', false, `${alsoChanges(target)}: ${refusal}`));
      }
      await this.verdict(inv, 'allowlist', 'allowed', `the ${others} it also changes are in the allowlist`);
    }
    if (!acting) return;
    const pauses = await this.options.store.listPauses(this.now().getTime());
    for (const target of targets) {
      const pause = pauses.find((p) => pauseMatches(p, { ...this.pauseSubject(inv), target }));
      if (pause !== undefined) {
        const reason = `${alsoChanges(target)}, and automation there is paused by ${describePause(pause)}`;
        await this.refuse(inv, this.refusal('pause', false, reason, { details: { pauseId: pause.id } }));
      }
    }
    await this.verdict(inv, 'pause', 'allowed', `no pause matches the ${others} it also changes`);
  }

  private pauseSubject(inv: Invocation): PauseSubject {
    return { target: inv.target, runbook: inv.ctx.runbook, labels: inv.ctx.labels };
  }

  private async checkFiring(inv: Invocation): Promise<void> {
    const { enabled, onUnknown, requireIncident } = this.options.config.firingOnly;
    const incidentId = inv.ctx.incidentId;
    if (!enabled || incidentId === undefined) {
      if (enabled && requireIncident) {
        const reason = 'no incident id: guard.firingOnly.requireIncident refuses actions outside an incident';
        await this.refuse(inv, this.refusal('firing', false, reason));
      }
      const why = enabled ? 'no incident to re-read (manual run)' : 'firing-only check disabled';
      return this.verdict(inv, 'firing', 'allowed', why);
    }
    let state: 'firing' | 'resolved' | 'unknown';
    try {
      state = await this.options.incidents.getIncidentFiringState(incidentId);
    } catch (err) {
      const reason = `could not re-read incident ${incidentId} (${(err as Error).message}); retry`;
      return this.refuse(inv, this.refusal('firing', true, reason));
    }
    const changed = state === 'resolved' ? changedKey(inv) : undefined;
    if (changed !== undefined && (await this.options.store.getIdempotency(changed).catch(() => undefined))) {
      // Scaling back after a quiet period, undoing a flag: the execution restores what it changed itself.
      const why = `incident ${incidentId} has resolved, but execution ${inv.ctx.executionId} changed ${inv.key} earlier and may put it back`;
      return this.verdict(inv, 'firing', 'allowed', why);
    }
    if (state === 'resolved' || (state === 'unknown' && onUnknown === 'refuse')) {
      const reason =
        state === 'resolved'
          ? `every alert of incident ${incidentId} has resolved; nothing to remediate`
          : `incident ${incidentId} is unknown to the incident store (guard.firingOnly.onUnknown: refuse)`;
      await this.refuse(inv, this.refusal('firing', false, reason));
    }
    await this.verdict(inv, 'firing', 'allowed', `incident ${incidentId} is ${state}`);
  }

  private async act(inv: Invocation, lock: HeldLock): Promise<ActionResult> {
    const { store, config, inner } = this.options;
    const startedAt = this.now().getTime();
    const claimed = await store.claimIdempotency({
      key: inv.ctx.idempotencyKey,
      action: inv.name,
      targetKey: inv.key,
      state: 'started',
      owner: inv.owner,
      startedAt,
      expiresAt: startedAt + config.idempotency.retention,
    });
    if (!claimed) {
      const reason = `key ${inv.ctx.idempotencyKey} was claimed by another invocation at the same moment`;
      await this.refuse(inv, this.refusal('idempotency', true, reason));
    }
    const usedAt = this.now().getTime();
    const budget = await this.automation.budgets.consume(inv.key, usedAt);
    if (!budget.allowed) {
      await store.abandonIdempotency(inv.ctx.idempotencyKey, inv.owner);
      const reason = `budget spent: ${budget.used} of ${budget.limit} actions on ${inv.key} (guard.budget)`;
      await this.refuse(inv, this.refusal('budget', false, reason));
    }
    let result: ActionResult;
    let wrote = false;
    const onChange = () => {
      wrote = true;
      inv.ctx.onChange?.();
    };
    // What stopped the action in checkAlsoChanged (a refusal, or the guard store failing), if anything did.
    let othersStop: { err: unknown } | undefined;
    const alsoChanges = (targets: readonly TargetRef[]) =>
      this.checkAlsoChanged(inv, targets, true).catch((err: unknown) => {
        othersStop = { err };
        throw err;
      });
    try {
      const signal = AbortSignal.any([inv.ctx.signal, lock.signal]);
      const ctx = { ...inv.ctx, shadow: false, signal, alsoChanges, onChange };
      result = await inner.run(inv.name, inv.params, ctx);
    } catch (err) {
      // Cut off (shutdown, a lost lock) after a write that may have landed: the outcome is unknown. The key
      // stays `started`, so the resumed attempt, which comes back with the same key, is refused as
      // outcome-unknown instead of acting again (a step applied twice, a drain started over). Failing any
      // other way, the key is freed: what the engine records as a failure is retried under a new key anyway.
      const cutOff = wrote && (inv.ctx.signal.aborted || lock.signal.aborted);
      if (!cutOff) await store.abandonIdempotency(inv.ctx.idempotencyKey, inv.owner);
      // Stopped by the rails before it wrote: not a failed remediation, and no action spent.
      const stoppedByRails = othersStop?.err === err && !wrote;
      // An action that failed before it changed anything took no action from the target's budget either: a
      // forbidden write and its retry must not leave the next incident without one.
      if (stoppedByRails || (inv.reportsChanges && !wrote)) await this.giveBackBudget(inv, usedAt);
      const lost: unknown = lock.signal.aborted ? lock.signal.reason : undefined;
      if (lost instanceof GuardRefusedError && cutOff) {
        // Not the retryable lock refusal: a Retry, under a new attempt key, would act again beside a write
        // that may have landed.
        const reason =
          `${lost.reason}, after ${inv.name} sent a write to it, so whether that write was applied is unknown. ` +
          `Check ${inv.key} by hand, then rerun with a new attempt.`;
        return this.refuse(inv, this.refusal('idempotency', false, reason));
      }
      if (lost instanceof GuardRefusedError) return this.refuse(inv, lost);
      if (stoppedByRails) throw err;
      // A failed action is a failed remediation for the breaker, unless we were shut down mid-way; its
      // retries and the escalation after them are the same remediation (recordOutcome).
      if (!inv.ctx.signal.aborted) await this.recordOutcome(inv.scope, false, inv.ctx.executionId);
      throw err;
    }
    // The action has acted: failing now would make the engine retry it under a new attempt key. A key left
    // `started` is later refused as outcome-unknown instead of acting twice.
    const at = this.now().getTime();
    await store
      .completeIdempotency(inv.ctx.idempotencyKey, inv.owner, result, at)
      .catch((err: unknown) =>
        this.options.onStoreError?.(err, `recording the result of ${inv.ctx.idempotencyKey}`),
      );
    // Found nothing to do: the target was not touched, so neither is its budget.
    if (result.noop) await this.giveBackBudget(inv, usedAt);
    const changed = changedKey(inv);
    if (changed !== undefined && !result.noop) {
      // Remembered so this execution may put the target back after the incident resolves (see checkFiring).
      await this.claimMarker(changed, inv.name, inv.key, inv.owner).catch((err: unknown) =>
        this.options.onStoreError?.(err, `recording ${changed}`),
      );
    }
    return result;
  }
}

/** The marker an execution leaves on a target it changed: `changed/<execution>/<target>`. */
function changedKey(inv: Invocation): string | undefined {
  return inv.ctx.executionId === undefined ? undefined : `changed/${inv.ctx.executionId}/${inv.key}`;
}

/** `12 Pods (namespaces shop, web)` */
function describeTargets(targets: readonly TargetRef[]): string {
  const kinds = [...new Set(targets.map((t) => t.kind))];
  const namespaces = [...new Set(targets.flatMap((t) => (t.namespace === undefined ? [] : [t.namespace])))];
  const what = `${targets.length} ${kinds.join('/')}${targets.length === 1 ? '' : 's'}`;
  return namespaces.length === 0
    ? what
    : `${what} (namespace${namespaces.length === 1 ? '' : 's'} ${namespaces.join(', ')})`;
}

/** Why shadow-until-configured is in force: the settings still missing. */
function untilConfigured(missing: readonly string[]): string {
  return `shadow until configured (guard.shadow.untilConfigured; missing: ${missing.join(', ')})`;
}
