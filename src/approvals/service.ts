import { ulid } from 'ulid';
import { ReboundError, describeError, isReboundError } from '../errors.ts';
import type { ApprovalsConfig } from './config.ts';
import {
  APPROVAL_TIMED_OUT,
  DEFAULT_SNOOZE_SECONDS,
  publicView,
  type Approval,
  type ApprovalRecord,
  type ApprovalStatus,
  type Decision,
  type DecisionOutput,
  type Via,
} from './model.ts';
import type { ApprovalStore, Closing } from './port.ts';

/** Resumes waiting executions: the engine's SendTaskSuccess / SendTaskFailure. */
export interface TaskCompleter {
  sendTaskSuccess(token: string, output: DecisionOutput): Promise<void>;
  sendTaskFailure(token: string, error: string, cause: string): Promise<void>;
}

/** Tells people about approvals outside Rebound (Slack); failures never block a decision. */
export interface ApprovalNotifier {
  /** Posts the request with its buttons. */
  requested(approval: Approval): Promise<void>;
  /** Says who decided (or that it expired) where the request was posted. */
  closed(approval: Approval): Promise<void>;
}

/** One incident timeline entry; the composition root binds this to the incident service. */
export type TimelineWriter = (
  incidentId: string,
  note: { actor: string; description: string; data: unknown },
) => Promise<void>;

export interface ApprovalServiceDeps {
  readonly store: ApprovalStore;
  readonly tasks: TaskCompleter;
  readonly config: ApprovalsConfig;
  readonly timeline?: TimelineWriter;
  readonly notifier?: ApprovalNotifier;
  readonly now?: () => Date;
  /** Background failures (timeline, Slack, a decision the engine could not take yet). */
  readonly onError?: (err: unknown, context: { approvalId: string; step: string }) => void;
}

export interface ApprovalRequestInput {
  readonly taskToken: string;
  readonly executionId: string;
  readonly incidentId?: string;
  readonly runbook: string;
  readonly summary: string;
  readonly timeoutSeconds?: number;
  /** What the runbook does when nobody answers, e.g. `escalate`. */
  readonly onTimeout: string;
}

/** Who decides, through which front door. */
export interface Decider {
  readonly by: string;
  readonly via: Exclude<Via, 'timeout'>;
}

export type DecideResult =
  | { readonly kind: 'accepted'; readonly approval: Approval }
  | { readonly kind: 'already-decided'; readonly approval: Approval }
  | { readonly kind: 'closed'; readonly approval: Approval; readonly reason: string };

export type ApprovalListener = (approval: Approval) => void;

type Delivery = 'delivered' | 'gone' | 'retry';

/**
 * The one decision service behind every front door (Slack, REST, CLI, dashboard). A decision is recorded
 * once (a conditional write: the second one is told who was first), then handed to the engine; a crash in
 * between is repaired by the sweep, which also expires approvals past their stored deadline.
 */
export class ApprovalService {
  private readonly now: () => Date;
  private readonly listeners = new Set<ApprovalListener>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> | undefined;

  constructor(private readonly deps: ApprovalServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** Creates the pending approval for a waiting task (or finds the one a previous run of it created). */
  async request(input: ApprovalRequestInput): Promise<Approval> {
    const created = this.now();
    const timeout = input.timeoutSeconds ?? this.deps.config.defaultTimeoutSeconds;
    const { record, created: fresh } = await this.deps.store.insert({
      id: `apr-${ulid().toLowerCase()}`,
      taskToken: input.taskToken,
      executionId: input.executionId,
      incidentId: input.incidentId ?? null,
      runbook: input.runbook,
      summary: input.summary,
      onTimeout: input.onTimeout,
      status: 'pending',
      createdAt: created.toISOString(),
      expiresAt: new Date(created.getTime() + timeout * 1000).toISOString(),
      delivered: false,
    });
    const approval = publicView(record);
    if (fresh) {
      await this.note(approval, `runbook:${approval.executionId}`, requestedText(approval));
      this.emit(approval);
    }
    // A restart re-runs the requesting task: post only what never reached Slack.
    if (record.status === 'pending' && record.notifiedAt === undefined && this.deps.notifier) {
      try {
        await this.deps.notifier.requested(approval);
        await this.deps.store.markNotified(approval.id, this.now().toISOString());
      } catch (err) {
        this.deps.onError?.(err, { approvalId: approval.id, step: 'notify' });
        await this.note(
          approval,
          'rebound',
          `Approval ${approval.id} could not be posted to Slack (${describeError(err)}); decide with \`rebound approve ${approval.id}\` or the API`,
        );
      }
    }
    return approval;
  }

  /** The id of the approval a task token belongs to, if any: only the approval may complete that task. */
  async approvalOf(taskToken: string): Promise<string | undefined> {
    return (await this.deps.store.findByToken(taskToken))?.id;
  }

  async get(id: string): Promise<Approval> {
    return publicView(await this.require(id));
  }

  /** Newest first. `all` lists every status. */
  async list(status: ApprovalStatus | 'all', limit = 100): Promise<Approval[]> {
    const records = await this.deps.store.list(status === 'all' ? [] : [status], limit);
    return records.map(publicView);
  }

  /**
   * Records a decision and resumes the execution. Throws NOT_FOUND for an unknown id; tells the caller
   * when someone else decided first or the approval closed.
   */
  async decide(
    id: string,
    decision: Decision,
    who: Decider,
    options: { snoozeSeconds?: number } = {},
  ): Promise<DecideResult> {
    const current = await this.require(id);
    if (current.status !== 'pending') return this.refusal(current);
    // Past its deadline it is expired, whether or not the sweep has come round yet: a late "remediate" must
    // not act after the runbook was promised Approval.TimedOut.
    if (Date.parse(current.expiresAt) <= this.now().getTime()) {
      await this.expire(current, this.now());
      return this.refusal(await this.require(id));
    }
    const closing: Closing = {
      status: 'decided',
      decision,
      decidedBy: who.by,
      via: who.via,
      ...(decision === 'snooze' ? { snoozeSeconds: options.snoozeSeconds ?? DEFAULT_SNOOZE_SECONDS } : {}),
      decidedAt: this.now().toISOString(),
    };
    if (!(await this.deps.store.close(id, closing))) return this.refusal(await this.require(id));
    const decided = await this.require(id);
    const delivery = await this.deliver(decided);
    if (delivery === 'gone') {
      const closed = await this.require(id);
      return { kind: 'closed', approval: publicView(closed), reason: closed.reason ?? 'closed' };
    }
    const approval = publicView(decided);
    await this.note(approval, who.by, decidedText(approval));
    this.emit(approval);
    if (who.via !== 'slack') await this.announce(approval);
    return { kind: 'accepted', approval };
  }

  /**
   * One pass: expires pending approvals past their deadline (their task fails with Approval.TimedOut) and
   * re-sends decisions that were recorded but never reached the engine.
   */
  async sweep(): Promise<{ expired: number; redelivered: number }> {
    // One pass at a time: the interval and a caller (tests, shutdown) may overlap.
    while (this.sweeping) await this.sweeping.catch(() => undefined);
    const pass = this.sweepOnce();
    this.sweeping = pass;
    try {
      return await pass;
    } finally {
      this.sweeping = undefined;
    }
  }

  /** Runs the sweep every `sweepIntervalSeconds` (and once now, for deadlines passed while stopped). */
  start(): void {
    if (this.timer) return;
    const run = () => {
      this.sweep().catch((err: unknown) => this.deps.onError?.(err, { approvalId: '*', step: 'sweep' }));
    };
    run();
    this.timer = setInterval(run, this.deps.config.sweepIntervalSeconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping?.catch(() => undefined);
  }

  /** Called with every approval that is created or closed (live views). */
  subscribe(listener: ApprovalListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async sweepOnce(): Promise<{ expired: number; redelivered: number }> {
    const now = this.now();
    let expired = 0;
    for (const due of await this.deps.store.dueForExpiry(now.toISOString(), 100))
      if (await this.expire(due, now)) expired += 1;
    let redelivered = 0;
    for (const record of await this.deps.store.undelivered(100)) {
      if ((await this.deliver(record)) === 'delivered') redelivered += 1;
    }
    return { expired, redelivered };
  }

  /** Hands a closed approval's outcome to the engine; `gone` when nothing waits for it any more. */
  private async deliver(record: ApprovalRecord): Promise<Delivery> {
    try {
      if (record.status === 'decided') {
        const output: DecisionOutput = {
          decision: record.decision!,
          decidedBy: record.decidedBy!,
          via: record.via!,
          ...(record.snoozeSeconds === undefined ? {} : { snoozeSeconds: record.snoozeSeconds }),
        };
        await this.deps.tasks.sendTaskSuccess(record.taskToken, output);
      } else {
        const cause = `Approval ${record.id} (${record.summary}) got no decision by ${record.expiresAt}`;
        await this.deps.tasks.sendTaskFailure(record.taskToken, APPROVAL_TIMED_OUT, cause);
      }
    } catch (err) {
      // NOT_FOUND / ILLEGAL_TRANSITION: the execution ended or its task timed out first; nothing to resume.
      if (isReboundError(err) && (err.code === 'NOT_FOUND' || err.code === 'ILLEGAL_TRANSITION')) {
        if (record.status === 'decided') {
          await this.deps.store.abandon(
            record.id,
            `the execution no longer waits for this approval: ${err.message}`,
          );
        } else {
          await this.deps.store.markDelivered(record.id);
        }
        return 'gone';
      }
      this.deps.onError?.(err, { approvalId: record.id, step: 'deliver' });
      return 'retry';
    }
    await this.deps.store.markDelivered(record.id);
    return 'delivered';
  }

  /**
   * Expires a pending approval past its deadline: its task fails with Approval.TimedOut. False when it had
   * closed meanwhile (decided, or expired by another pass).
   */
  private async expire(due: ApprovalRecord, now: Date): Promise<boolean> {
    const seconds = Math.round((Date.parse(due.expiresAt) - Date.parse(due.createdAt)) / 1000);
    const closing: Closing = {
      status: 'expired',
      decidedBy: 'rebound',
      via: 'timeout',
      reason: `no decision within ${seconds}s`,
      decidedAt: now.toISOString(),
    };
    if (!(await this.deps.store.close(due.id, closing))) return false;
    const closed = await this.require(due.id);
    await this.deliver(closed);
    const approval = publicView(closed);
    await this.note(
      approval,
      'rebound',
      `Approval ${approval.id} expired: no decision within ${seconds}s; the runbook gets ${APPROVAL_TIMED_OUT} (default: ${approval.onTimeout})`,
    );
    this.emit(approval);
    await this.announce(approval);
    return true;
  }

  private refusal(record: ApprovalRecord): DecideResult {
    const approval = publicView(record);
    if (record.status === 'decided') return { kind: 'already-decided', approval };
    return { kind: 'closed', approval, reason: record.reason ?? 'expired' };
  }

  private async require(id: string): Promise<ApprovalRecord> {
    const record = await this.deps.store.get(id);
    if (!record)
      throw new ReboundError(
        'NOT_FOUND',
        `no approval '${id}'; list pending ones with \`rebound approvals list\``,
      );
    return record;
  }

  private async note(approval: Approval, actor: string, description: string): Promise<void> {
    if (!approval.incidentId || !this.deps.timeline) return;
    try {
      await this.deps.timeline(approval.incidentId, { actor, description, data: { approval } });
    } catch (err) {
      this.deps.onError?.(err, { approvalId: approval.id, step: 'timeline' });
    }
  }

  private async announce(approval: Approval): Promise<void> {
    try {
      await this.deps.notifier?.closed(approval);
    } catch (err) {
      this.deps.onError?.(err, { approvalId: approval.id, step: 'notify' });
    }
  }

  private emit(approval: Approval): void {
    for (const listener of this.listeners) {
      try {
        listener(approval);
      } catch (err) {
        this.deps.onError?.(err, { approvalId: approval.id, step: 'listener' });
      }
    }
  }
}

function requestedText(a: Approval): string {
  return `Approval ${a.id} requested by runbook ${a.runbook}: ${a.summary} (until ${a.expiresAt}, then ${a.onTimeout})`;
}

function decidedText(a: Approval): string {
  const what =
    a.decision === 'remediate'
      ? 'remediate now'
      : a.decision === 'skip'
        ? 'skip (no remediation)'
        : `snooze ${a.snoozeSeconds ?? 0}s`;
  return `Approval ${a.id} decided: ${what} by ${a.decidedBy} via ${a.via}`;
}
