import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { INCIDENT_STATUSES } from '../../incidents/lifecycle.ts';
import type { IncidentService } from '../../incidents/service.ts';
import type { IncidentStatus } from '../../incidents/model.ts';
import { actorOf } from '../server.ts';
import { assertTimeRange, isoTime, limitParam, parseInput } from '../query.ts';

const listQuery = z
  .object({
    status: z
      .string()
      .optional()
      .transform((s, ctx) => {
        if (!s) return undefined;
        const values = s.split(',').map((v) => v.trim());
        const bad = values.find((v) => !INCIDENT_STATUSES.includes(v as IncidentStatus));
        if (bad !== undefined) {
          ctx.addIssue({
            code: 'custom',
            message: `unknown status "${bad}"; one of ${INCIDENT_STATUSES.join(', ')}`,
          });
          return z.NEVER;
        }
        return values as IncidentStatus[];
      }),
    service: z.string().min(1).optional(),
    from: isoTime.optional(),
    to: isoTime.optional(),
    cursor: z.string().optional(),
    limit: limitParam,
  })
  .strict();

const actionBody = z
  .object({
    actor: z.string().min(1).max(200).optional(),
    comment: z.string().max(4000).optional(),
  })
  .strict();

export function registerIncidentRoutes(app: FastifyInstance, deps: { incidents: IncidentService }): void {
  const { incidents } = deps;

  app.get('/v1/incidents', { config: { role: 'viewer' } }, async (request) => {
    const q = parseInput(listQuery, request.query, 'query');
    assertTimeRange(q, 'query');
    return incidents.list({
      limit: q.limit,
      ...(q.status ? { status: q.status } : {}),
      ...(q.service ? { service: q.service } : {}),
      ...(q.from ? { from: new Date(q.from).toISOString() } : {}),
      ...(q.to ? { to: new Date(q.to).toISOString() } : {}),
      ...(q.cursor ? { cursor: q.cursor } : {}),
    });
  });

  app.get<{ Params: { id: string } }>('/v1/incidents/:id', { config: { role: 'viewer' } }, async (request) =>
    incidents.get(request.params.id),
  );

  for (const action of ['acknowledge', 'resolve'] as const) {
    app.post<{ Params: { id: string } }>(
      `/v1/incidents/:id/${action}`,
      { config: { role: 'operator' } },
      async (request) => {
        const body = parseInput(actionBody, request.body, 'body');
        const actor = body.actor ? `${actorOf(request)} (${body.actor})` : actorOf(request);
        const incident =
          action === 'acknowledge'
            ? await incidents.acknowledge(request.params.id, actor, body.comment)
            : await incidents.resolve(request.params.id, actor, body.comment);
        return { incident };
      },
    );
  }
}
