import type { ApprovalRecord, ApprovalStatus, Decision, Via } from './model.ts';

/** How a pending approval closes: decided by someone, or expired (time-out, or nothing waits any more). */
export type Closing =
  | {
      readonly status: 'decided';
      readonly decision: Decision;
      readonly decidedBy: string;
      readonly via: Via;
      readonly snoozeSeconds?: number;
      readonly decidedAt: string;
    }
  | {
      readonly status: 'expired';
      readonly decidedBy: string;
      readonly via: Via;
      readonly reason: string;
      readonly decidedAt: string;
      /** True when there is nothing to send to the engine (the execution no longer waits). */
      readonly delivered?: boolean;
    };

/**
 * What approvals need from a store. Every access is by key or by (status, time): `pending` ordered by expiry
 * for the sweep, all ordered by creation for listings — two index patterns a DynamoDB table can serve too.
 */
export interface ApprovalStore {
  /** Stores a new pending approval; if one exists for the same task token, returns that one (created false). */
  insert(record: ApprovalRecord): Promise<{ record: ApprovalRecord; created: boolean }>;
  get(id: string): Promise<ApprovalRecord | undefined>;
  /** The approval waiting on (or decided for) a task token, if the token is an approval's. */
  findByToken(taskToken: string): Promise<ApprovalRecord | undefined>;
  /** Newest first; `statuses` empty means all. */
  list(statuses: readonly ApprovalStatus[], limit: number): Promise<ApprovalRecord[]>;
  /** Closes a pending approval; false (and no change) when it was not pending any more. */
  close(id: string, closing: Closing): Promise<boolean>;
  /** Closes a decided approval whose execution no longer waits: expired, with the reason, nothing to send. */
  abandon(id: string, reason: string): Promise<void>;
  /** Marks the decision as handed to the engine. */
  markDelivered(id: string): Promise<void>;
  markNotified(id: string, at: string): Promise<void>;
  /** Pending approvals whose `expiresAt` is at or before `now` (ISO time), oldest expiry first. */
  dueForExpiry(now: string, limit: number): Promise<ApprovalRecord[]>;
  /** Closed approvals whose outcome has not reached the engine yet (a crash between close and send). */
  undelivered(limit: number): Promise<ApprovalRecord[]>;
  /**
   * Deletes closed approvals whose outcome reached the engine, decided (or expired) before `cutoff` (ISO
   * time), in chunks; stops between chunks once `signal` aborts. Returns how many.
   */
  deleteClosedBefore(cutoff: string, signal?: AbortSignal): Promise<number>;
}
