import type { ActionContext, TargetRef } from '../actions/types.ts';
import type { GuardRule } from './errors.ts';

/** How one rail judged one mutating action. `replayed`: the idempotency key had already acted. */
export type VerdictOutcome = 'allowed' | 'refused' | 'shadowed' | 'replayed';

/** One rail's judgement, appended to the incident timeline by whoever listens (`onVerdict`). */
export interface GuardVerdict {
  readonly action: string;
  readonly target: TargetRef;
  readonly rule: GuardRule;
  readonly outcome: VerdictOutcome;
  readonly reason: string;
  /** Only on refusals: whether a retry can help. */
  readonly retryable?: boolean;
  readonly idempotencyKey: string;
  readonly correlationId?: string;
  readonly incidentId?: string;
  /** ISO time from the guard's clock. */
  readonly at: string;
}

/** The context a guarded run accepts: the action context plus what pauses and per-runbook shadow match on. */
export interface GuardedActionContext extends ActionContext {
  /** Name of the runbook whose Task state calls the action. */
  readonly runbook?: string;
  /** Labels of the incident / alert (e.g. alertname, team, severity), for pause matchers. */
  readonly labels?: Readonly<Record<string, string>>;
}
