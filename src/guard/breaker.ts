import type { GuardConfig } from './config.ts';
import { withOptimisticRetry } from './cas.ts';
import type { BreakerItem, GuardStore } from './port.ts';

export type BreakerPolicy = Pick<GuardConfig['breaker'], 'window' | 'threshold' | 'minOutcomes'>;

/** Success rate of the recorded outcomes, or undefined when there are none. */
export function successRate(outcomes: readonly boolean[]): number | undefined {
  if (outcomes.length === 0) return undefined;
  return outcomes.filter(Boolean).length / outcomes.length;
}

/**
 * The breaker after one more remediation outcome: the ring keeps the last `window` outcomes; a closed
 * breaker opens once at least `minOutcomes` are known and their success rate is below `threshold`. An open
 * breaker stays open whatever arrives: only an operator closes it.
 */
export function applyOutcome(
  item: BreakerItem,
  success: boolean,
  now: number,
  policy: BreakerPolicy,
): Omit<BreakerItem, 'version'> {
  const outcomes = [...item.outcomes, success].slice(-policy.window);
  const { version: _version, ...rest } = item;
  if (item.state === 'open' || outcomes.length < policy.minOutcomes) return { ...rest, outcomes };
  const rate = successRate(outcomes)!;
  if (rate >= policy.threshold) return { ...rest, outcomes };
  const succeeded = outcomes.filter(Boolean).length;
  return {
    ...rest,
    outcomes,
    state: 'open',
    openedAt: now,
    openedReason:
      `success rate ${Math.round(rate * 100)}% (${succeeded} of ${outcomes.length}) over the last ` +
      `${outcomes.length} remediations fell below ${Math.round(policy.threshold * 100)}%`,
  };
}

/** Circuit breakers per scope, persisted through the guard store with optimistic concurrency. */
export class CircuitBreakers {
  constructor(
    private readonly store: GuardStore,
    private readonly policy: BreakerPolicy,
  ) {}

  /** Reads a scope's breaker (closed with no outcomes when never written). */
  get(scope: string): Promise<BreakerItem> {
    return this.store.getBreaker(scope);
  }

  list(): Promise<BreakerItem[]> {
    return this.store.listBreakers();
  }

  /** Records one remediation outcome; returns the breaker as stored afterwards. */
  record(scope: string, success: boolean, now: number): Promise<BreakerItem> {
    return withOptimisticRetry(`breaker ${scope}`, async () => {
      const item = await this.store.getBreaker(scope);
      const next = applyOutcome(item, success, now, this.policy);
      return (await this.store.putBreaker(next, item.version))
        ? { ...next, version: item.version + 1 }
        : undefined;
    });
  }

  /** Closes a breaker and forgets its outcomes (they led to the opening); returns it, or undefined if unknown. */
  reset(scope: string, now: number, by: string): Promise<BreakerItem | undefined> {
    return withOptimisticRetry(`breaker ${scope}`, async () => {
      const item = await this.store.getBreaker(scope);
      if (item.version === 0) return { found: false as const };
      const next: Omit<BreakerItem, 'version'> = {
        scope,
        state: 'closed',
        outcomes: [],
        resetAt: now,
        resetBy: by,
      };
      return (await this.store.putBreaker(next, item.version))
        ? { found: true as const, item: { ...next, version: item.version + 1 } }
        : undefined;
    }).then((r) => (r.found ? r.item : undefined));
  }
}
