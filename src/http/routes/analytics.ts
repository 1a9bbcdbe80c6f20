import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ReboundError } from '../../errors.ts';
import { computeAnalytics, type AnalyticsReport, type AnalyticsSource } from '../../incidents/analytics.ts';
import { isoTime, parseInput } from '../query.ts';

export const ANALYTICS_SECTIONS = ['overall', 'trends', 'frequency', 'effectiveness', 'share'] as const;
type Section = (typeof ANALYTICS_SECTIONS)[number];

const DEFAULT_RANGE_DAYS = 7;
const MAX_RANGE_DAYS = 366;

const analyticsQuery = z
  .object({
    from: isoTime.optional(),
    to: isoTime.optional(),
    service: z.string().min(1).optional(),
    bucket: z.enum(['hour', 'day']).optional(),
  })
  .strict();

/**
 * `GET /v1/analytics` (the whole report) and `GET /v1/analytics/{overall|trends|frequency|effectiveness|share}`
 * over incidents opened in [from, to) (default: the last 7 days).
 */
export function registerAnalyticsRoutes(
  app: FastifyInstance,
  deps: { source: AnalyticsSource; now: () => Date },
): void {
  const report = async (query: unknown): Promise<AnalyticsReport> => {
    const q = parseInput(analyticsQuery, query, 'query');
    const to = q.to ? new Date(q.to) : deps.now();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - DEFAULT_RANGE_DAYS * 86_400_000);
    if (from >= to) throw new ReboundError('BAD_REQUEST', 'query.to: must be after from', { path: 'to' });
    if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * 86_400_000)
      throw new ReboundError('BAD_REQUEST', `query.from: the range may span at most ${MAX_RANGE_DAYS} days`, {
        path: 'from',
      });
    return computeAnalytics(deps.source, {
      from: from.toISOString(),
      to: to.toISOString(),
      ...(q.service ? { service: q.service } : {}),
      ...(q.bucket ? { bucket: q.bucket } : {}),
    });
  };

  app.get('/v1/analytics', { config: { role: 'viewer' } }, async (request) => report(request.query));

  app.get<{ Params: { section: string } }>(
    '/v1/analytics/:section',
    { config: { role: 'viewer' } },
    async (request) => {
      const section = request.params.section as Section;
      if (!ANALYTICS_SECTIONS.includes(section))
        throw new ReboundError(
          'NOT_FOUND',
          `no analytics section "${request.params.section}"; one of ${ANALYTICS_SECTIONS.join(', ')}`,
        );
      const full = await report(request.query);
      return { range: full.range, [section]: full[section] };
    },
  );
}
