import { describeError } from '../../errors.ts';
import type { FetchLike } from '../http.ts';
import {
  buildDecisionMessage,
  ephemeral,
  SNOOZE_SECONDS,
  type ApprovalDecision,
} from './approval-message.ts';
import { parseInteraction, type ApprovalInteraction } from './interaction.ts';
import { postSlackMessage, type SlackMessage } from './post.ts';
import { SLACK_SIGNATURE_HEADER, SLACK_TIMESTAMP_HEADER, verifySlackSignature } from './signature.ts';

/** What `decide` reports, so the Slack message can say what really happened. */
export type DecideOutcome =
  | { readonly status: 'accepted' }
  | { readonly status: 'already-decided'; readonly decision: string; readonly by: string }
  | { readonly status: 'closed'; readonly reason: string };

export interface SlackDecider {
  /** Records the decision and resumes the waiting execution (SendTaskSuccess/Failure); idempotent per approval. */
  (approvalId: string, decision: ApprovalDecision, user: SlackUser): Promise<DecideOutcome | void>;
}

export interface SlackUser {
  readonly id: string;
  readonly name?: string;
  /** Set for `snooze`: how long to wait before asking again. */
  readonly snoozeSeconds?: number;
}

export interface SlackInteractionDeps {
  readonly signingSecret: string;
  /** Slack user ids (`U…`/`W…`) allowed to decide; empty means nobody. Names change, ids do not. */
  readonly allowedUsers: readonly string[];
  readonly decide: SlackDecider;
  /** When set, clicks from any other workspace are refused. */
  readonly teamId?: string;
  /** `response_url`s must start with one of these; Slack's is `https://hooks.slack.com/`. */
  readonly responseUrlPrefixes?: readonly string[];
  readonly now?: () => Date;
  readonly fetch?: FetchLike;
  readonly timeoutMs?: number;
  /** Background failures (decide, message update); the HTTP answer has already gone. */
  readonly onError?: (err: unknown, context: { approvalId?: string; step: string }) => void;
}

export interface SlackInteractionResponse {
  readonly status: number;
  readonly body: unknown;
  /** Settles when the decision is recorded and the message updated; never rejects. */
  readonly done: Promise<void>;
}

const SLACK_RESPONSE_PREFIXES = ['https://hooks.slack.com/'];

/**
 * The route handler for `POST /v1/integrations/slack/interactions`. Verifies the signature, then answers at
 * once (Slack wants 200 within 3 s) and records the decision and updates the message in the background.
 */
export function handleSlackInteraction(
  rawBody: string | Buffer,
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
  deps: SlackInteractionDeps,
): SlackInteractionResponse {
  const now = deps.now?.() ?? new Date();
  const verdict = verifySlackSignature({
    signingSecret: deps.signingSecret,
    rawBody,
    timestamp: header(headers, SLACK_TIMESTAMP_HEADER),
    signature: header(headers, SLACK_SIGNATURE_HEADER),
    nowSeconds: Math.floor(now.getTime() / 1000),
  });
  if (!verdict.ok) {
    const message = `Slack request signature check failed (${verdict.reason}); check the signing secret and the server clock`;
    return { status: 401, body: { code: 'UNAUTHORIZED', message }, done: Promise.resolve() };
  }
  const parsed = parseInteraction(rawBody);
  if (parsed.kind === 'malformed') {
    return {
      status: 400,
      body: { code: 'INVALID_PAYLOAD', message: `Slack interaction: ${parsed.reason}` },
      done: Promise.resolve(),
    };
  }
  if (parsed.kind === 'ignored') return { status: 200, body: '', done: Promise.resolve() };
  const done = settle(parsed.interaction, deps, now);
  return { status: 200, body: '', done };
}

/** Decides and updates the message; never rejects (nothing awaits it but the tests). */
async function settle(
  interaction: ApprovalInteraction,
  deps: SlackInteractionDeps,
  now: Date,
): Promise<void> {
  try {
    await decideAndRespond(interaction, deps, now);
  } catch (err) {
    deps.onError?.(err, { approvalId: interaction.approvalId, step: 'respond' });
  }
}

async function decideAndRespond(
  interaction: ApprovalInteraction,
  deps: SlackInteractionDeps,
  now: Date,
): Promise<void> {
  const reply = await decideAndDescribe(interaction, deps, now);
  if (!interaction.responseUrl || !reply) return;
  if (!allowedResponseUrl(interaction.responseUrl, deps.responseUrlPrefixes ?? SLACK_RESPONSE_PREFIXES)) {
    deps.onError?.(new Error('response_url is not a Slack URL; message not updated'), {
      approvalId: interaction.approvalId,
      step: 'respond',
    });
    return;
  }
  // A failed post reaches onError through settle(), like anything else that fails here.
  await postSlackMessage(interaction.responseUrl, reply, {
    timeoutMs: deps.timeoutMs ?? 5_000,
    fetch: deps.fetch,
    label: 'Slack response_url',
  });
}

async function decideAndDescribe(
  i: ApprovalInteraction,
  deps: SlackInteractionDeps,
  now: Date,
): Promise<SlackMessage | undefined> {
  if (deps.teamId && i.teamId !== deps.teamId)
    return ephemeral('This Rebound only takes decisions from its own Slack workspace.');
  if (!deps.allowedUsers.includes(i.user.id)) {
    return ephemeral(
      `You are not on Rebound's approver list. Ask an admin to add your Slack user id ${i.user.id} to slack.allowedUsers.`,
    );
  }
  const user: SlackUser = {
    id: i.user.id,
    ...(i.user.name ? { name: i.user.name } : {}),
    ...(i.decision === 'snooze' ? { snoozeSeconds: SNOOZE_SECONDS } : {}),
  };
  let outcome: DecideOutcome | void;
  try {
    outcome = await deps.decide(i.approvalId, i.decision, user);
  } catch (err) {
    deps.onError?.(err, { approvalId: i.approvalId, step: 'decide' });
    return ephemeral(
      `Rebound could not record your choice (${describeError(err)}). Try again, or run \`rebound approve ${i.approvalId}\`.`,
    );
  }
  const status = outcome?.status ?? 'accepted';
  if (status === 'accepted')
    return buildDecisionMessage({
      decision: i.decision,
      userId: i.user.id,
      at: now,
      originalBlocks: i.messageBlocks,
    });
  if (outcome?.status === 'already-decided')
    return ephemeral(`Already decided: ${outcome.decision} by ${outcome.by}.`);
  const reason = outcome?.status === 'closed' ? outcome.reason : 'closed';
  return { replace_original: true, text: `This approval is no longer open (${reason}).` };
}

function allowedResponseUrl(url: string, prefixes: readonly string[]): boolean {
  try {
    const target = new URL(url);
    return prefixes.some((p) => {
      const prefix = new URL(p);
      return prefix.origin === target.origin && target.pathname.startsWith(prefix.pathname);
    });
  } catch {
    return false;
  }
}

function header(
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
  name: string,
): string | undefined {
  const value = headers[name] ?? Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];
  return Array.isArray(value) ? value[0] : (value as string | undefined);
}
