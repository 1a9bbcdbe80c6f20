import { z } from 'zod';
import { ReboundError } from '../errors.ts';
import { formatPath } from '../ingest/alertmanager/payload.ts';

/** Parses query/body input with a zod schema; failures become 400 BAD_REQUEST naming the field. */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown, where: string): T {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = formatPath(issue.path);
  throw new ReboundError('BAD_REQUEST', `${where}${path ? `.${path}` : ''}: ${issue.message}`, { path });
}

export const isoTime = z.iso.datetime({
  offset: true,
  error: 'an ISO-8601 timestamp, e.g. 2026-01-31T12:00:00Z',
});

export const limitParam = z.coerce.number().int().min(1).max(1000).default(100);
