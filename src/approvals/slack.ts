import { isReboundError } from '../errors.ts';
import type { FetchLike } from '../integrations/http.ts';
import {
  escapeMrkdwn,
  postApprovalRequest,
  postSlackMessage,
  type ApprovalDecision,
  type DecideOutcome,
  type SlackAppConfig,
  type SlackDecider,
} from '../integrations/slack/index.ts';
import type { Approval, Decision } from './model.ts';
import type { ApprovalNotifier, ApprovalService } from './service.ts';

/** What the Slack message says about the incident; looked up when the request is posted. */
export interface IncidentBrief {
  readonly title: string;
  readonly severity: string;
  readonly service?: string | null;
}

export interface SlackApprovalDeps {
  readonly config: SlackAppConfig;
  readonly describeIncident?: (incidentId: string) => Promise<IncidentBrief | undefined>;
  /** Link to the incident in the dashboard (server.publicUrl), when one is configured. */
  readonly incidentUrl?: (incidentId: string) => string | undefined;
  readonly fetch?: FetchLike;
}

const FROM_BUTTON: Record<ApprovalDecision, Decision> = {
  approve: 'remediate',
  skip: 'skip',
  snooze: 'snooze',
};

/** Posts approval requests (with buttons) and closing notes to the Slack app's incoming webhook. */
export function slackApprovalNotifier(deps: SlackApprovalDeps): ApprovalNotifier | undefined {
  const { config } = deps;
  const webhook = config.approvalWebhookUrl;
  if (!webhook) return undefined;
  return {
    async requested(a) {
      const incident = a.incidentId
        ? await deps.describeIncident?.(a.incidentId).catch(() => undefined)
        : undefined;
      const url = a.incidentId ? deps.incidentUrl?.(a.incidentId) : undefined;
      await postApprovalRequest(
        config,
        {
          approvalId: a.id,
          incidentId: a.incidentId ?? a.executionId,
          title: incident?.title ?? a.summary,
          severity: incident?.severity ?? 'unknown',
          proposed: a.summary,
          runbook: a.runbook,
          expiresAt: new Date(a.expiresAt),
          onTimeout: a.onTimeout,
          ...(incident?.service ? { service: incident.service } : {}),
          ...(url ? { incidentUrl: url } : {}),
        },
        deps.fetch ? { fetch: deps.fetch } : {},
      );
    },
    // A click in Slack updates its own message (response_url); other front doors post a line under it.
    async closed(a) {
      await postSlackMessage(
        webhook,
        { text: closedText(a) },
        { timeoutMs: config.timeoutMs, fetch: deps.fetch, label: 'Slack approval webhook' },
      );
    },
  };
}

/** The Slack handler's `decide`: maps buttons to decisions and the service's answer to what Slack shows. */
export function slackDecider(service: ApprovalService): SlackDecider {
  return async (approvalId, button, user): Promise<DecideOutcome> => {
    try {
      const result = await service.decide(
        approvalId,
        FROM_BUTTON[button],
        { by: `slack:${user.id}`, via: 'slack' },
        user.snoozeSeconds === undefined ? {} : { snoozeSeconds: user.snoozeSeconds },
      );
      switch (result.kind) {
        case 'accepted':
          return { status: 'accepted' };
        case 'already-decided':
          return {
            status: 'already-decided',
            decision: result.approval.decision ?? 'unknown',
            by: `${result.approval.decidedBy ?? 'someone'} via ${result.approval.via ?? 'unknown'}`,
          };
        case 'closed':
          return { status: 'closed', reason: result.reason };
      }
    } catch (err) {
      if (isReboundError(err) && err.code === 'NOT_FOUND')
        return { status: 'closed', reason: `unknown approval ${approvalId}` };
      throw err;
    }
  };
}

/** The line posted when an approval closes; plain mrkdwn, so every piece of text in it is escaped. */
function closedText(a: Approval): string {
  return escapeMrkdwn(closedWords(a));
}

function closedWords(a: Approval): string {
  if (a.status === 'expired')
    return `:hourglass: Approval ${a.id} (${a.summary}) expired: ${a.reason ?? 'no decision'}. Rebound will ${a.onTimeout}.`;
  const words =
    a.decision === 'remediate'
      ? ':white_check_mark: Remediate now chosen'
      : a.decision === 'skip'
        ? ':fast_forward: Skipped (no remediation)'
        : `:zzz: Snoozed for ${Math.round((a.snoozeSeconds ?? 0) / 60)} minutes`;
  return `${words} for approval ${a.id} (${a.summary}) by ${a.decidedBy ?? 'someone'} via ${a.via ?? 'unknown'}.`;
}
