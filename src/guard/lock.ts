import { describeError } from '../errors.ts';
import type { GuardConfig } from './config.ts';
import { GuardRefusedError } from './errors.ts';
import type { GuardStore, LockLease } from './port.ts';

/** A held target lock. `signal` aborts if the lease is lost, or may be: renewals failed or went unanswered
 * for two thirds of the TTL, so the holder stops before another process can take the lock. */
export interface HeldLock {
  readonly targetKey: string;
  readonly owner: string;
  readonly signal: AbortSignal;
  release(): Promise<void>;
}

/**
 * Durable per-target leases. A holder renews its lease every ttl/3 while its action runs, so only a dead
 * holder's lease expires. Waiters in this process are woken on release; waiters elsewhere poll.
 */
export class TargetLocks {
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(
    private readonly store: GuardStore,
    private readonly policy: GuardConfig['lock'],
    private readonly now: () => Date,
  ) {}

  /** Takes the target's lock, waiting up to `lock.wait`; refuses (retryable) when it stays held. */
  async acquire(targetKey: string, owner: string, signal: AbortSignal): Promise<HeldLock> {
    const deadline = this.now().getTime() + this.policy.wait;
    for (;;) {
      const at = this.now().getTime();
      const attempt = await this.store.acquireLock(targetKey, owner, at, this.policy.ttl);
      if (attempt.acquired) return this.hold(targetKey, owner, at);
      const remaining = deadline - this.now().getTime();
      if (remaining <= 0 || signal.aborted) throw this.refusal(targetKey, attempt.holder);
      await this.waitForRelease(targetKey, Math.min(remaining, this.policy.pollInterval), signal);
    }
  }

  private refusal(targetKey: string, holder: LockLease): GuardRefusedError {
    const retryAfterMs = Math.max(0, holder.expiresAt - this.now().getTime());
    return new GuardRefusedError(
      'lock',
      true,
      `target ${targetKey} is locked by another action (${holder.owner}) since ` +
        `${new Date(holder.acquiredAt).toISOString()}; waited ${this.policy.wait} ms (guard.lock.wait). ` +
        'Retry later; the lock frees when that action ends or its lease expires.',
      { retryAfterMs: Math.min(retryAfterMs, this.policy.wait), details: { holder: holder.owner } },
    );
  }

  private waitForRelease(targetKey: string, ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const set = this.waiters.get(targetKey) ?? new Set<() => void>();
      this.waiters.set(targetKey, set);
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        set.delete(done);
        if (set.size === 0 && this.waiters.get(targetKey) === set) this.waiters.delete(targetKey);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done);
      set.add(done);
    });
  }

  private hold(targetKey: string, owner: string, acquiredAt: number): HeldLock {
    const lost = new AbortController();
    const giveUp = (why: string) => {
      clearInterval(timer);
      lost.abort(new GuardRefusedError('lock', true, `lost the lease on ${targetKey}: ${why}`));
    };
    // The lease is ours until `ttl` after the last renewal the store confirmed, and no longer: a holder
    // that cannot reach the store must stop before another process may take the lock, not act on beside it.
    let renewedAt = acquiredAt;
    let lastError = 'no renewal answered';
    const renew = async (): Promise<void> => {
      const at = this.now().getTime();
      // Renewals run every ttl/3: a store hiccup is survivable while the last confirmed one still covers
      // the next tick; past that (renewals failing, or hanging), another action may hold the lock.
      if (at - renewedAt >= (this.policy.ttl * 2) / 3) {
        giveUp(`renewing it failed (${lastError}) and the lease may have expired`);
        return;
      }
      try {
        if (await this.store.renewLock(targetKey, owner, at, this.policy.ttl)) renewedAt = at;
        else giveUp('another action may now hold it');
      } catch (err) {
        lastError = describeError(err);
      }
    };
    const timer = setInterval(() => void renew(), Math.max(1, Math.floor(this.policy.ttl / 3)));
    timer.unref();
    let released = false;
    return {
      targetKey,
      owner,
      signal: lost.signal,
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(timer);
        try {
          await this.store.releaseLock(targetKey, owner);
        } finally {
          for (const wake of [...(this.waiters.get(targetKey) ?? [])]) wake();
        }
      },
    };
  }
}
