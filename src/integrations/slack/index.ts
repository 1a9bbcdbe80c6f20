import type { FetchLike } from '../http.ts';
import { buildApprovalMessage, type ApprovalRequest } from './approval-message.ts';
import type { SlackAppConfig } from './config.ts';
import { handleSlackInteraction, type SlackDecider, type SlackInteractionResponse } from './handler.ts';
import { postSlackMessage } from './post.ts';

export {
  APPROVAL_ACTIONS,
  buildApprovalMessage,
  buildDecisionMessage,
  SNOOZE_SECONDS,
  type ApprovalDecision,
  type ApprovalRequest,
} from './approval-message.ts';
export { slackAppConfigSchema, type SlackAppConfig } from './config.ts';
export { escapeMrkdwn } from './mrkdwn.ts';
export {
  handleSlackInteraction,
  type DecideOutcome,
  type SlackDecider,
  type SlackInteractionDeps,
  type SlackInteractionResponse,
  type SlackUser,
} from './handler.ts';
export { parseInteraction, type ApprovalInteraction } from './interaction.ts';
export { postSlackMessage, type SlackMessage } from './post.ts';
export { slackSignature, verifySlackSignature } from './signature.ts';

/** Posts the Remediate now / Skip / Snooze 10m message to the app's approval webhook. */
export async function postApprovalRequest(
  config: SlackAppConfig,
  request: ApprovalRequest,
  options: { signal?: AbortSignal; fetch?: FetchLike } = {},
): Promise<void> {
  if (!config.approvalWebhookUrl) {
    throw new TypeError('slack.approvalWebhookUrl is not configured; approvals cannot be posted to Slack');
  }
  await postSlackMessage(config.approvalWebhookUrl, buildApprovalMessage(request), {
    timeoutMs: config.timeoutMs,
    signal: options.signal,
    fetch: options.fetch,
    label: 'Slack approval webhook',
  });
}

/** The route handler bound to the `slack` config: `(rawBody, headers) → {status, body, done}`. */
export function slackInteractionHandler(
  config: SlackAppConfig,
  decide: SlackDecider,
  options: {
    onError?: (err: unknown, context: { approvalId?: string; step: string }) => void;
    fetch?: FetchLike;
    now?: () => Date;
  } = {},
): (
  rawBody: string | Buffer,
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
) => SlackInteractionResponse {
  return (rawBody, headers) =>
    handleSlackInteraction(rawBody, headers, {
      signingSecret: config.signingSecret,
      allowedUsers: config.allowedUsers,
      decide,
      responseUrlPrefixes: config.responseUrlPrefixes,
      timeoutMs: config.timeoutMs,
      ...(config.teamId ? { teamId: config.teamId } : {}),
      ...options,
    });
}
