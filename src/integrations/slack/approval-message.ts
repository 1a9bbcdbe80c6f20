import type { SlackMessage } from './post.ts';
import { truncate } from '../text.ts';
import { escapeMrkdwn } from './mrkdwn.ts';

/**
 * The approval message (buttons Remediate now / Skip / Snooze 10m) and the message that replaces it once
 * someone decided. Each button's `value` is the approval id — never the task token, which stays server-side.
 */

export const APPROVAL_BLOCK_ID = 'rebound.approval';
export const APPROVAL_ACTIONS = {
  approve: 'rebound.approval.approve',
  skip: 'rebound.approval.skip',
  snooze: 'rebound.approval.snooze',
} as const;
export const SNOOZE_SECONDS = 600;

export type ApprovalDecision = keyof typeof APPROVAL_ACTIONS;

export interface ApprovalRequest {
  readonly approvalId: string;
  readonly incidentId: string;
  readonly title: string;
  readonly severity: string;
  /** What Rebound will do on approval, e.g. "rollout restart deployment/checkout in shop". */
  readonly proposed: string;
  readonly service?: string;
  readonly runbook?: string;
  /** When the wait ends without an answer, and what happens then. */
  readonly expiresAt?: Date;
  readonly onTimeout?: string;
  readonly incidentUrl?: string;
}

/** The interactive approval message for an incoming webhook or chat.postMessage. */
export function buildApprovalMessage(r: ApprovalRequest): SlackMessage {
  const header = truncate(`Approval needed: [${r.severity.toUpperCase()}] ${r.title}`, 150);
  const fields = [
    `*Severity*\n${escapeMrkdwn(r.severity.toUpperCase())}`,
    r.service ? `*Service*\n${escapeMrkdwn(r.service)}` : undefined,
    `*Incident*\n${r.incidentUrl ? `<${r.incidentUrl}|${escapeMrkdwn(r.incidentId)}>` : escapeMrkdwn(r.incidentId)}`,
    r.runbook ? `*Runbook*\n${escapeMrkdwn(r.runbook)}` : undefined,
  ].filter((f): f is string => f !== undefined);
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: header, emoji: true } },
    { type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text: truncate(text, 2000) })) },
    {
      type: 'section',
      text: { type: 'mrkdwn', text: truncate(`*Proposed:* ${escapeMrkdwn(r.proposed)}`, 3000) },
    },
  ];
  if (r.expiresAt) {
    const unix = Math.floor(r.expiresAt.getTime() / 1000);
    const then = r.onTimeout ? ` Rebound will ${escapeMrkdwn(r.onTimeout)}.` : '';
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `No answer by <!date^${unix}^{date_short_pretty} {time}|${r.expiresAt.toISOString()}>?${then}`,
        },
      ],
    });
  }
  blocks.push({
    type: 'actions',
    block_id: APPROVAL_BLOCK_ID,
    elements: [
      {
        type: 'button',
        action_id: APPROVAL_ACTIONS.approve,
        text: { type: 'plain_text', text: 'Remediate now' },
        style: 'primary',
        value: r.approvalId,
        confirm: {
          title: { type: 'plain_text', text: 'Remediate now?' },
          text: { type: 'mrkdwn', text: truncate(`Rebound will ${escapeMrkdwn(r.proposed)}.`, 300) },
          confirm: { type: 'plain_text', text: 'Remediate' },
          deny: { type: 'plain_text', text: 'Cancel' },
        },
      },
      {
        type: 'button',
        action_id: APPROVAL_ACTIONS.skip,
        text: { type: 'plain_text', text: 'Skip' },
        value: r.approvalId,
      },
      {
        type: 'button',
        action_id: APPROVAL_ACTIONS.snooze,
        text: { type: 'plain_text', text: 'Snooze 10m' },
        value: r.approvalId,
      },
    ],
  });
  return { text: escapeMrkdwn(`:raising_hand: ${header} — ${r.proposed}`), blocks };
}

const DECIDED: Record<ApprovalDecision, { emoji: string; words: string }> = {
  approve: { emoji: ':white_check_mark:', words: 'Remediate now chosen' },
  skip: { emoji: ':fast_forward:', words: 'Skipped (no remediation)' },
  snooze: { emoji: ':zzz:', words: 'Snoozed for 10 minutes' },
};

/**
 * The `response_url` message that replaces the approval once decided: the original blocks without the
 * buttons, plus who decided and when. Without the original blocks (not sent by Slack) only the line remains.
 */
export function buildDecisionMessage(input: {
  decision: ApprovalDecision;
  userId: string;
  at: Date;
  originalBlocks?: readonly unknown[];
}): SlackMessage {
  const { emoji, words } = DECIDED[input.decision];
  const unix = Math.floor(input.at.getTime() / 1000);
  const iso = input.at.toISOString();
  const line = `${emoji} *${words}* by <@${input.userId}> at <!date^${unix}^{date_short_pretty} {time_secs}|${iso}>`;
  // The blocks come back from Slack inside the signed click; keep only well-formed ones.
  const kept = (input.originalBlocks ?? []).filter(
    (b) =>
      typeof b === 'object' && b !== null && (b as { block_id?: unknown }).block_id !== APPROVAL_BLOCK_ID,
  );
  return {
    replace_original: true,
    text: `${words} by ${input.userId} at ${iso}`,
    blocks: [...kept, { type: 'section', text: { type: 'mrkdwn', text: line } }],
  };
}

/** A reply only the clicking user sees (not allowed, already decided, failure). */
export function ephemeral(text: string): SlackMessage {
  return { response_type: 'ephemeral', replace_original: false, text };
}
