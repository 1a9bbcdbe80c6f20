import { z } from 'zod';
import { APPROVAL_ACTIONS, type ApprovalDecision } from './approval-message.ts';

/**
 * Slack interactive requests arrive as `application/x-www-form-urlencoded` with one field, `payload`, holding
 * JSON. A click on an approval button is a `block_actions` payload whose action id names the decision and
 * whose value is the approval id.
 */

export interface ApprovalInteraction {
  readonly decision: ApprovalDecision;
  readonly approvalId: string;
  readonly user: { readonly id: string; readonly name?: string; readonly teamId?: string };
  readonly teamId?: string;
  /** Where to post the message update; valid for 30 minutes and 5 uses. */
  readonly responseUrl?: string;
  /** The blocks of the message the button was on, to rebuild it without buttons. */
  readonly messageBlocks?: readonly unknown[];
}

export type ParsedInteraction =
  | { readonly kind: 'approval'; readonly interaction: ApprovalInteraction }
  | { readonly kind: 'ignored'; readonly reason: string }
  | { readonly kind: 'malformed'; readonly reason: string };

const payloadSchema = z.looseObject({
  type: z.string(),
  user: z.looseObject({
    id: z.string().min(1),
    username: z.string().optional(),
    name: z.string().optional(),
    team_id: z.string().optional(),
  }),
  team: z.looseObject({ id: z.string() }).nullable().optional(),
  response_url: z.string().optional(),
  actions: z.array(z.looseObject({ action_id: z.string(), value: z.string().optional() })).optional(),
  message: z.looseObject({ blocks: z.array(z.unknown()).optional() }).optional(),
});

const DECISIONS = new Map<string, ApprovalDecision>(
  Object.entries(APPROVAL_ACTIONS).map(([decision, id]) => [id, decision as ApprovalDecision]),
);

/** Parses a form-encoded interactive request body into an approval decision, or says why it is not one. */
export function parseInteraction(rawBody: string | Buffer): ParsedInteraction {
  const payloadText = new URLSearchParams(rawBody.toString()).get('payload');
  if (payloadText === null) return { kind: 'malformed', reason: 'no payload form field' };
  let json: unknown;
  try {
    json = JSON.parse(payloadText);
  } catch {
    return { kind: 'malformed', reason: 'payload is not JSON' };
  }
  const parsed = payloadSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { kind: 'malformed', reason: `payload.${issue.path.join('.')}: ${issue.message}` };
  }
  const p = parsed.data;
  if (p.type !== 'block_actions') return { kind: 'ignored', reason: `interaction type ${p.type}` };
  const action = p.actions?.find((a) => DECISIONS.has(a.action_id));
  if (!action) return { kind: 'ignored', reason: 'no Rebound approval action' };
  if (!action.value) return { kind: 'malformed', reason: 'approval button carries no approval id' };
  const teamId = p.team?.id ?? p.user.team_id;
  return {
    kind: 'approval',
    interaction: {
      decision: DECISIONS.get(action.action_id)!,
      approvalId: action.value,
      user: {
        id: p.user.id,
        ...((p.user.username ?? p.user.name) ? { name: p.user.username ?? p.user.name } : {}),
        ...(p.user.team_id ? { teamId: p.user.team_id } : {}),
      },
      ...(teamId ? { teamId } : {}),
      ...(p.response_url ? { responseUrl: p.response_url } : {}),
      ...(p.message?.blocks ? { messageBlocks: p.message.blocks } : {}),
    },
  };
}
