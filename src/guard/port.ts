/**
 * What the guard rails need from storage. Every operation is a key lookup or a conditional write on one
 * item, so the port maps onto one DynamoDB table (pk = kind#key, conditions on version / expiry / owner).
 * Times are epoch milliseconds taken from the guard's injected clock, never the store's.
 */

/** An idempotency key claimed by a running action, or completed with its recorded result. */
export interface IdempotencyRecord {
  readonly key: string;
  readonly action: string;
  readonly targetKey: string;
  readonly state: 'started' | 'completed';
  /** The invocation that claimed the key (lock owner id). */
  readonly owner: string;
  readonly startedAt: number;
  readonly completedAt?: number;
  /** The action's result, JSON-serialisable; present once completed. */
  readonly result?: unknown;
  /** After this the record may be pruned (a DynamoDB TTL attribute). */
  readonly expiresAt: number;
}

export interface LockLease {
  readonly targetKey: string;
  readonly owner: string;
  readonly acquiredAt: number;
  readonly expiresAt: number;
}

export type LockAttempt =
  { readonly acquired: true } | { readonly acquired: false; readonly holder: LockLease };

/** One item per target holding the times of its recent actions (a sliding window, pruned on write). */
export interface BudgetItem {
  readonly targetKey: string;
  readonly uses: readonly number[];
  /** Optimistic-concurrency version; 0 for an item not yet stored. */
  readonly version: number;
}

export interface BreakerItem {
  readonly scope: string;
  readonly state: 'closed' | 'open';
  /** Most recent remediation outcomes, oldest first, at most the configured window. */
  readonly outcomes: readonly boolean[];
  readonly openedAt?: number;
  readonly openedReason?: string;
  readonly resetAt?: number;
  readonly resetBy?: string;
  readonly version: number;
}

/** A maintenance window: actions whose target/labels match every entry of `match` are refused. */
export interface PauseItem {
  readonly id: string;
  /** Label matchers; `cluster`, `namespace`, `kind`, `name`, `runbook` match the action, the rest its labels. */
  readonly match: Readonly<Record<string, string>>;
  readonly reason: string;
  readonly createdAt: number;
  readonly createdBy?: string;
  /** Epoch ms after which the pause no longer applies; absent = until resumed. */
  readonly until?: number;
}

export interface GuardStore {
  /** Reads the idempotency record of a key, if any. */
  getIdempotency(key: string): Promise<IdempotencyRecord | undefined>;
  /** Inserts a `started` record unless the key exists (conditional put); true when this call claimed it. */
  claimIdempotency(record: IdempotencyRecord): Promise<boolean>;
  /** Marks a key completed with its result, only if `owner` still holds the claim; true when it did. */
  completeIdempotency(key: string, owner: string, result: unknown, completedAt: number): Promise<boolean>;
  /** Deletes a `started` claim held by `owner` (its action failed) so the key can be tried again. */
  abandonIdempotency(key: string, owner: string): Promise<void>;

  /** Takes the lock when it is free, expired, or already ours; otherwise reports the current holder. */
  acquireLock(targetKey: string, owner: string, now: number, ttlMs: number): Promise<LockAttempt>;
  /** Extends our lease; false when the lock is no longer ours (it expired and someone else took it). */
  renewLock(targetKey: string, owner: string, now: number, ttlMs: number): Promise<boolean>;
  /** Releases the lock if `owner` holds it. */
  releaseLock(targetKey: string, owner: string): Promise<void>;
  /** Lists unexpired locks, for status. */
  listLocks(now: number): Promise<LockLease[]>;

  /** Reads a target's budget item (version 0 and no uses when absent). */
  getBudget(targetKey: string): Promise<BudgetItem>;
  /** Writes a budget item if its stored version is still `expectedVersion`; true when written. */
  putBudget(targetKey: string, uses: readonly number[], expectedVersion: number): Promise<boolean>;
  /** Lists budget items that have a use at or after `since`, for status and metrics. */
  listBudgets(since: number): Promise<BudgetItem[]>;

  /** Reads a scope's breaker (closed, no outcomes, version 0 when absent). */
  getBreaker(scope: string): Promise<BreakerItem>;
  /** Writes a breaker if its stored version is still `expected.version`; true when written. */
  putBreaker(next: Omit<BreakerItem, 'version'>, expectedVersion: number): Promise<boolean>;
  /** Lists every breaker ever written. */
  listBreakers(): Promise<BreakerItem[]>;

  /** Stores a new pause. */
  addPause(pause: PauseItem): Promise<void>;
  /** Lists pauses still in force at `now` (no `until`, or `until` later than now). */
  listPauses(now: number): Promise<PauseItem[]>;
  /** Deletes pauses by id; returns the ids it deleted (those that still existed). */
  removePauses(ids: readonly string[]): Promise<string[]>;

  /** Deletes expired idempotency records, locks, ended pauses and budget uses older than `budgetSince`. */
  prune(now: number, budgetSince: number): Promise<number>;
}

/**
 * What the firing-only rail asks of the incident store (ARCHITECTURE invariant 3): whether any alert of the
 * incident still fires. `unknown` when the incident cannot be found.
 */
export interface IncidentReader {
  /** Re-reads the incident's alerts now; `resolved` only when every one of them has resolved. */
  getIncidentFiringState(incidentId: string): Promise<'firing' | 'resolved' | 'unknown'>;
}
