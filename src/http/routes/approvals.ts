import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { APPROVAL_STATUSES, DECISIONS } from '../../approvals/model.ts';
import type { ApprovalService } from '../../approvals/service.ts';
import { ReboundError } from '../../errors.ts';
import { limitParam, parseInput } from '../query.ts';
import { actorOf } from '../server.ts';

const listQuery = z
  .object({
    status: z.enum([...APPROVAL_STATUSES, 'all']).default('all'),
    limit: limitParam,
  })
  .strict();

const decisionBody = z
  .object({
    decision: z.enum(DECISIONS),
    /** Which front door sent it (the CLI and the dashboard say so); `api` by default. */
    via: z.enum(['api', 'cli', 'dashboard']).default('api'),
    snoozeSeconds: z.number().int().min(1).max(86_400).optional(),
  })
  .strict()
  // Any other decision would drop it, and the caller would believe a snooze was set.
  .refine((b) => b.snoozeSeconds === undefined || b.decision === 'snooze', {
    path: ['snoozeSeconds'],
    message: 'only a snooze takes snoozeSeconds; remove it, or decide "snooze"',
  });

/** `GET /v1/approvals`, `GET /v1/approvals/:id`, `POST /v1/approvals/:id/decision` (operator). */
export function registerApprovalRoutes(app: FastifyInstance, deps: { approvals: ApprovalService }): void {
  const { approvals } = deps;

  app.get('/v1/approvals', { config: { role: 'viewer' } }, async (request) => {
    const q = parseInput(listQuery, request.query, 'query');
    return { items: await approvals.list(q.status, q.limit) };
  });

  app.get<{ Params: { id: string } }>('/v1/approvals/:id', { config: { role: 'viewer' } }, async (request) =>
    approvals.get(request.params.id),
  );

  app.post<{ Params: { id: string } }>(
    '/v1/approvals/:id/decision',
    { config: { role: 'operator' } },
    async (request) => {
      const b = parseInput(decisionBody, request.body, 'body');
      const result = await approvals.decide(
        request.params.id,
        b.decision,
        { by: actorOf(request), via: b.via },
        b.snoozeSeconds === undefined ? {} : { snoozeSeconds: b.snoozeSeconds },
      );
      if (result.kind === 'accepted') return result.approval;
      const a = result.approval;
      const message =
        result.kind === 'already-decided'
          ? `approval ${a.id} was already decided: ${a.decision} by ${a.decidedBy} via ${a.via} at ${a.decidedAt}`
          : `approval ${a.id} is closed (${result.reason}); nothing waits for a decision`;
      throw new ReboundError('ILLEGAL_TRANSITION', message, { details: { approval: a } });
    },
  );
}
