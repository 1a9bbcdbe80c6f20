import { Counter, Gauge, type Registry } from 'prom-client';
import type { BudgetUsage } from './budget.ts';
import type { GuardRule } from './errors.ts';
import type { BreakerItem, PauseItem } from './port.ts';
import { successRate } from './breaker.ts';

/** Where the state gauges read from at scrape time, so they show the store's truth across processes. */
export interface GuardStateSource {
  breakers(): Promise<BreakerItem[]>;
  budgets(): Promise<BudgetUsage[]>;
  pauses(): Promise<PauseItem[]>;
}

/** Prometheus metrics of the guard rails. */
export class GuardMetrics {
  private readonly verdicts: Counter<'rule' | 'outcome'>;
  private readonly refusals: Counter<'rule'>;

  constructor(registry: Registry, source: GuardStateSource, budgetLimit: number) {
    this.verdicts = new Counter({
      name: 'rebound_guard_verdicts_total',
      help: 'Guard rail verdicts on mutating actions, by rule and outcome (allowed, refused, shadowed).',
      labelNames: ['rule', 'outcome'],
      registers: [registry],
    });
    this.refusals = new Counter({
      name: 'rebound_guard_refusals_total',
      help: 'Mutating actions refused by a guard rail, by rule.',
      labelNames: ['rule'],
      registers: [registry],
    });
    registerStateGauges(registry, source);
    new Gauge({
      name: 'rebound_guard_budget_limit',
      help: 'Mutating actions allowed per target within one budget window (guard.budget.maxActions).',
      registers: [registry],
    }).set(budgetLimit);
  }

  /** Counts one verdict. */
  verdict(rule: GuardRule, outcome: 'allowed' | 'refused' | 'shadowed'): void {
    this.verdicts.inc({ rule, outcome });
    if (outcome === 'refused') this.refusals.inc({ rule });
  }
}

function registerStateGauges(registry: Registry, source: GuardStateSource): void {
  const open: Gauge<'scope'> = new Gauge({
    name: 'rebound_guard_breaker_open',
    help: '1 while the circuit breaker of a scope is open (automation refused there), else 0.',
    labelNames: ['scope'],
    registers: [registry],
    async collect() {
      const breakers = await source.breakers();
      open.reset();
      for (const b of breakers) open.set({ scope: b.scope }, b.state === 'open' ? 1 : 0);
    },
  });
  const rate: Gauge<'scope'> = new Gauge({
    name: 'rebound_guard_breaker_success_ratio',
    help: 'Success rate of the recent remediation outcomes the breaker of a scope judges by.',
    labelNames: ['scope'],
    registers: [registry],
    async collect() {
      const breakers = await source.breakers();
      rate.reset();
      for (const b of breakers) {
        const r = successRate(b.outcomes);
        if (r !== undefined) rate.set({ scope: b.scope }, r);
      }
    },
  });
  const used: Gauge<'target'> = new Gauge({
    name: 'rebound_guard_budget_used',
    help: 'Mutating actions taken on a target within the current budget window.',
    labelNames: ['target'],
    registers: [registry],
    async collect() {
      const budgets = await source.budgets();
      used.reset();
      for (const b of budgets) used.set({ target: b.targetKey }, b.used);
    },
  });
  const paused: Gauge = new Gauge({
    name: 'rebound_guard_pauses_active',
    help: 'Pauses (maintenance windows) currently in force.',
    registers: [registry],
    async collect() {
      paused.set((await source.pauses()).length);
    },
  });
}
