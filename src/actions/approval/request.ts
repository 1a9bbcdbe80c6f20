import { z } from 'zod';
import type { Approval } from '../../approvals/model.ts';
import type { ApprovalRequestInput } from '../../approvals/service.ts';
import type { ActionDefinition } from '../types.ts';

/** What the action needs from the approvals service (a port, so actions do not depend on its wiring). */
export interface ApprovalRequester {
  request(input: ApprovalRequestInput): Promise<Approval>;
}

export const approvalRequestParams = z
  .object({
    /** `"taskToken.$": "$$.Task.Token"`: the token the decision resumes. */
    taskToken: z
      .string({
        error:
          'missing: call it as rebound:approval.request.waitForTaskToken with "taskToken.$": "$$.Task.Token"',
      })
      .min(1),
    /** The incident the approval is recorded on (default: the execution input's incidentId). */
    incidentId: z.string().min(1).nullable().optional(),
    /** Shown to approvers; defaults to the runbook that asks. */
    runbook: z.string().min(1).max(200).optional(),
    /** What Rebound will do when approved, e.g. "rollout restart deployment/checkout in shop". */
    summary: z.string().min(1).max(2000),
    /** No decision by then: the task fails with Approval.TimedOut (default approvals.defaultTimeoutSeconds). */
    timeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 86_400)
      .optional(),
    /** What the runbook does on time-out (its Catch decides; this is what approvers are told). */
    default: z.string().min(1).max(200).default('escalate'),
  })
  .strict();

export type ApprovalRequestParams = z.infer<typeof approvalRequestParams>;

/**
 * `approval.request` — run as `rebound:approval.request.waitForTaskToken`: records a pending approval, posts
 * it to Slack when configured, and returns; the execution then waits until someone decides. Not mutating:
 * it changes nothing in a cluster, so guard rails do not apply (the remediation after it passes them).
 */
export function approvalActions(
  requester: ApprovalRequester,
): ActionDefinition<ApprovalRequestParams, { approvalId: string; expiresAt: string }>[] {
  return [
    {
      name: 'approval.request',
      description:
        'Ask a human (Slack buttons, REST, CLI, dashboard) before remediating; resumes with {decision, decidedBy, via}',
      mutating: false,
      params: approvalRequestParams,
      async run(params, ctx) {
        const incidentId = params.incidentId ?? ctx.incidentId;
        const approval = await requester.request({
          taskToken: params.taskToken,
          executionId: executionOf(ctx.idempotencyKey),
          runbook: params.runbook ?? ctx.runbook ?? 'unknown',
          summary: params.summary,
          onTimeout: params.default,
          ...(incidentId ? { incidentId } : {}),
          ...(params.timeoutSeconds === undefined ? {} : { timeoutSeconds: params.timeoutSeconds }),
        });
        return { output: { approvalId: approval.id, expiresAt: approval.expiresAt }, writes: [] };
      },
    },
  ];
}

/** The engine's idempotency keys read `<executionId>/<state visit>/r<epoch>/a<attempt>`; ids hold no `/`. */
function executionOf(idempotencyKey: string): string {
  const slash = idempotencyKey.indexOf('/');
  return slash > 0 ? idempotencyKey.slice(0, slash) : idempotencyKey;
}
