import type { GuardConfig } from './config.ts';
import { withOptimisticRetry } from './cas.ts';
import type { GuardStore } from './port.ts';

export interface BudgetUsage {
  readonly targetKey: string;
  readonly used: number;
  readonly limit: number;
  /** When the oldest use in the window leaves it, i.e. when one more action becomes possible. */
  readonly nextSlotAt?: number;
}

/**
 * Per-target action budget over a sliding window (a fixed hourly window would allow 2N actions around its
 * boundary). The uses are kept in one item per target, pruned to the window on every write.
 */
export class TargetBudgets {
  constructor(
    private readonly store: GuardStore,
    private readonly policy: GuardConfig['budget'],
  ) {}

  private usage(targetKey: string, uses: readonly number[], now: number): BudgetUsage {
    const inWindow = uses.filter((t) => t > now - this.policy.window).sort((a, b) => a - b);
    return {
      targetKey,
      used: inWindow.length,
      limit: this.policy.maxActions,
      ...(inWindow.length === 0 ? {} : { nextSlotAt: inWindow[0]! + this.policy.window }),
    };
  }

  /** Current usage of a target, without consuming anything. */
  async peek(targetKey: string, now: number): Promise<BudgetUsage> {
    const item = await this.store.getBudget(targetKey);
    return this.usage(targetKey, item.uses, now);
  }

  /** Consumes one action if the window has room; `allowed` false (and nothing written) when it has not. */
  consume(targetKey: string, now: number): Promise<BudgetUsage & { allowed: boolean }> {
    return withOptimisticRetry(`budget ${targetKey}`, async () => {
      const item = await this.store.getBudget(targetKey);
      const before = this.usage(targetKey, item.uses, now);
      if (before.used >= before.limit) return { ...before, allowed: false };
      const uses = [...item.uses.filter((t) => t > now - this.policy.window), now];
      if (!(await this.store.putBudget(targetKey, uses, item.version))) return undefined;
      return { ...this.usage(targetKey, uses, now), allowed: true };
    });
  }

  /** Gives back the use `consume` recorded at `at`, for an action the rails refused before it acted. */
  async release(targetKey: string, at: number): Promise<void> {
    await withOptimisticRetry(`budget ${targetKey}`, async () => {
      const item = await this.store.getBudget(targetKey);
      const index = item.uses.indexOf(at);
      if (index < 0) return true;
      const uses = item.uses.filter((_, i) => i !== index);
      return (await this.store.putBudget(targetKey, uses, item.version)) ? true : undefined;
    });
  }

  /** Usage of every target with a use in the current window. */
  async list(now: number): Promise<BudgetUsage[]> {
    const items = await this.store.listBudgets(now - this.policy.window);
    return items.map((item) => this.usage(item.targetKey, item.uses, now)).filter((u) => u.used > 0);
  }
}
