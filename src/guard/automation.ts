import { ulid } from 'ulid';
import type { TargetRef } from '../actions/types.ts';
import { ReboundError } from '../errors.ts';
import { CircuitBreakers, successRate } from './breaker.ts';
import { TargetBudgets, type BudgetUsage } from './budget.ts';
import type { GuardConfig } from './config.ts';
import type { BreakerItem, GuardStore, PauseItem } from './port.ts';
import { parseScope, scopeOf } from './target.ts';
import type { AutomationStatus, BreakerView, BudgetView, PauseView, ResumeResult } from './views.ts';

export type { AutomationStatus, BreakerView, BudgetView, PauseView, ResumeResult } from './views.ts';

export interface PauseInput {
  /** Matchers; empty pauses all automation (the kill switch). */
  readonly match?: Readonly<Record<string, string>>;
  readonly until?: Date;
  readonly reason?: string;
  readonly createdBy?: string;
}

export interface ResumeInput {
  /** `cluster` or `cluster/namespace`: reset that breaker and lift pauses matching exactly that scope. */
  readonly scope?: string;
  /** Lift one pause by id. */
  readonly pauseId?: string;
  readonly by?: string;
}

const iso = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString();

export function pauseView(p: PauseItem): PauseView {
  return {
    id: p.id,
    match: p.match,
    reason: p.reason,
    createdAt: iso(p.createdAt)!,
    ...(p.createdBy === undefined ? {} : { createdBy: p.createdBy }),
    ...(p.until === undefined ? {} : { until: iso(p.until)! }),
  };
}

export function breakerView(b: BreakerItem): BreakerView {
  const rate = successRate(b.outcomes);
  return {
    scope: b.scope,
    state: b.state,
    outcomes: b.outcomes.length,
    ...(rate === undefined ? {} : { successRate: Math.round(rate * 1000) / 1000 }),
    ...(b.openedAt === undefined ? {} : { openedAt: iso(b.openedAt)! }),
    ...(b.openedReason === undefined ? {} : { reason: b.openedReason }),
    ...(b.resetAt === undefined ? {} : { resetAt: iso(b.resetAt)! }),
    ...(b.resetBy === undefined ? {} : { resetBy: b.resetBy }),
  };
}

function budgetView(u: BudgetUsage): BudgetView {
  return {
    target: u.targetKey,
    used: u.used,
    limit: u.limit,
    ...(u.nextSlotAt === undefined ? {} : { nextSlotAt: iso(u.nextSlotAt)! }),
  };
}

/** True when a pause's matchers are exactly the fields the scope names. */
function pauseCoversScope(pause: PauseItem, scope: string): boolean {
  const fields: Record<string, string | undefined> = parseScope(scope);
  const keys = Object.keys(pause.match);
  const wanted = Object.keys(fields).filter((k) => fields[k] !== undefined);
  return keys.length === wanted.length && wanted.every((k) => pause.match[k] === fields[k]);
}

/** The operator's levers on automation: status, pause (maintenance windows), resume, breaker outcomes. */
export class Automation {
  readonly breakers: CircuitBreakers;
  readonly budgets: TargetBudgets;

  constructor(
    private readonly store: GuardStore,
    private readonly config: GuardConfig,
    private readonly now: () => Date,
  ) {
    this.breakers = new CircuitBreakers(store, config.breaker);
    this.budgets = new TargetBudgets(store, config.budget);
  }

  /** The breaker scope of a target under this configuration. */
  scopeOf(target: TargetRef): string {
    return scopeOf(target, this.config.breaker.scope);
  }

  /** Everything an operator needs to see before touching automation. */
  async status(): Promise<AutomationStatus> {
    const now = this.now().getTime();
    const [pauses, breakers, budgets, locks] = await Promise.all([
      this.store.listPauses(now),
      this.store.listBreakers(),
      this.budgets.list(now),
      this.store.listLocks(now),
    ]);
    return {
      shadow: { global: this.config.shadow.global, runbooks: this.config.shadow.runbooks },
      pauses: pauses.map(pauseView),
      breakers: breakers.map(breakerView),
      budgets: budgets.map(budgetView),
      locks: locks.map((l) => ({ target: l.targetKey, owner: l.owner, expiresAt: iso(l.expiresAt)! })),
    };
  }

  /** Starts a pause (maintenance window); matching mutating actions are refused until it ends or is lifted. */
  async pause(input: PauseInput): Promise<PauseView> {
    const now = this.now().getTime();
    if (input.until !== undefined && input.until.getTime() <= now) {
      throw new ReboundError('BAD_REQUEST', `until ${input.until.toISOString()} is not in the future`, {
        path: 'until',
      });
    }
    const pause: PauseItem = {
      id: ulid(now),
      match: { ...(input.match ?? {}) },
      reason: input.reason ?? '',
      createdAt: now,
      ...(input.createdBy === undefined ? {} : { createdBy: input.createdBy }),
      ...(input.until === undefined ? {} : { until: input.until.getTime() }),
    };
    await this.store.addPause(pause);
    return pauseView(pause);
  }

  /**
   * Resumes automation: with no argument lifts every pause and resets every breaker; with a scope, that
   * scope's breaker and the pauses made for exactly that scope; with a pause id, that pause.
   */
  async resume(input: ResumeInput = {}): Promise<ResumeResult> {
    const now = this.now().getTime();
    const by = input.by ?? 'operator';
    const pauses = await this.store.listPauses(now);
    const everything = input.scope === undefined && input.pauseId === undefined;
    const chosen = pauses.filter(
      (p) =>
        everything ||
        p.id === input.pauseId ||
        (input.scope !== undefined && pauseCoversScope(p, input.scope)),
    );
    // Only what this call removed: a pause another resume lifted meanwhile is not reported twice.
    const removed = new Set(await this.store.removePauses(chosen.map((p) => p.id)));
    const lifted = chosen.filter((p) => removed.has(p.id));
    if (input.pauseId !== undefined && !removed.has(input.pauseId)) {
      throw new ReboundError(
        'NOT_FOUND',
        `no active pause ${input.pauseId}; see \`rebound automation status\``,
      );
    }
    const scopes = everything
      ? (await this.store.listBreakers()).filter((b) => b.state === 'open').map((b) => b.scope)
      : input.scope === undefined
        ? []
        : [input.scope];
    const reset: string[] = [];
    for (const scope of scopes) {
      if (await this.breakers.reset(scope, now, by)) reset.push(scope);
    }
    return { removedPauses: lifted.map(pauseView), resetBreakers: reset };
  }

  /** Records a verified remediation outcome for a scope (or a target's scope); returns the breaker after it. */
  async recordOutcome(scope: string | TargetRef, success: boolean): Promise<BreakerView> {
    const key = typeof scope === 'string' ? scope : this.scopeOf(scope);
    return breakerView(await this.breakers.record(key, success, this.now().getTime()));
  }
}
