import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ReboundError } from '../../errors.ts';
import type { EventReader } from '../../events/port.ts';
import { assertTimeRange, isoTime, limitParam, parseInput } from '../query.ts';

const listQuery = z
  .object({
    from: isoTime.optional(),
    to: isoTime.optional(),
    cursor: z.string().optional(),
    limit: limitParam,
    order: z.enum(['asc', 'desc']).default('asc'),
  })
  .strict();

export function registerEventRoutes(app: FastifyInstance, deps: { events: EventReader }): void {
  app.get('/v1/events', { config: { role: 'viewer' } }, async (request) => {
    const q = parseInput(listQuery, request.query, 'query');
    assertTimeRange(q, 'query');
    return deps.events.listEvents({
      limit: q.limit,
      ...(q.from ? { from: new Date(q.from).toISOString() } : {}),
      ...(q.to ? { to: new Date(q.to).toISOString() } : {}),
      ...(q.cursor ? { cursor: q.cursor } : {}),
      newestFirst: q.order === 'desc',
    });
  });
  app.get<{ Params: { id: string } }>('/v1/events/:id', { config: { role: 'viewer' } }, async (request) => {
    const event = await deps.events.getEvent(request.params.id);
    if (!event) throw new ReboundError('NOT_FOUND', `no event ${request.params.id}`);
    return event;
  });
}
