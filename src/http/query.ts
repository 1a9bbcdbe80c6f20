import { z } from 'zod';
import { ReboundError } from '../errors.ts';
import { formatPath, formatPathUnder } from '../ingest/alertmanager/payload.ts';

/** The body of a write that takes none (redrive, reload): nothing or `{}`; anything else is a 400 naming it. */
export const emptyBody = z.object({}).strict();

/** Parses query/body input with a zod schema; failures become 400 BAD_REQUEST naming the field. */
export function parseInput<T>(schema: z.ZodType<T>, input: unknown, where: string): T {
  // No body at all reads as `{}`; a body of `null` is a mistake worth naming.
  if (input === null) throw new ReboundError('BAD_REQUEST', `${where}: expected a JSON object, got null`);
  const given = input ?? {};
  const result = schema.safeParse(given);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  // An unknown key is reported at its object: name the key itself, as the other refusals name their field.
  const at = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
  const path = formatPath(at);
  // `?limit=1&limit=2` arrives as an array: say so, rather than what the array failed to be.
  const value =
    issue.path.length === 1 && typeof given === 'object'
      ? (given as Record<PropertyKey, unknown>)[issue.path[0]!]
      : undefined;
  // A record's bad key: zod says "Invalid key in record"; what the key had to be is in its own issue.
  const inner = issue.code === 'invalid_key' ? issue.issues[0]?.message : undefined;
  const message =
    where === 'query' && Array.isArray(value)
      ? 'given more than once; give it once'
      : inner !== undefined
        ? `the key must be ${inner}`
        : issue.code === 'unrecognized_keys' && issue.keys.length > 1
          ? `Unrecognized key: "${issue.keys[0]}" (and ${issue.keys
              .slice(1)
              .map((k) => `"${k}"`)
              .join(', ')})`
          : issue.message;
  throw new ReboundError('BAD_REQUEST', `${formatPathUnder(where, path)}: ${message}`, { path });
}

/** Refuses a `from` that is not before `to` (both optional), as every time-range query does. */
export function assertTimeRange(range: { from?: string; to?: string }, where: string): void {
  if (range.from !== undefined && range.to !== undefined && Date.parse(range.from) >= Date.parse(range.to))
    throw new ReboundError('BAD_REQUEST', `${where}.to: must be after from`, { path: 'to' });
}

export const isoTime = z.iso.datetime({
  offset: true,
  error: 'an ISO-8601 timestamp, e.g. 2026-01-31T12:00:00Z',
});

/** The most a list endpoint returns in one page; the CLI and the OpenAPI document state the same bound. */
export const MAX_LIMIT = 1000;
export const DEFAULT_LIMIT = 100;
const LIMIT_RULE = `a whole number from 1 to ${MAX_LIMIT}`;

/** `?limit=`: digits only (not `0x10`, `1e3` or ` 5`, which a plain number coercion would take). */
export const limitParam = z
  .string()
  .regex(/^\d{1,4}$/, LIMIT_RULE)
  .transform(Number)
  .pipe(z.number().min(1, LIMIT_RULE).max(MAX_LIMIT, LIMIT_RULE))
  .optional()
  .transform((n) => n ?? DEFAULT_LIMIT);
