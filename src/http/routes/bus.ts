import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Bus } from '../../bus/bus.ts';
import { isInvalidEventPatternError } from '../../bus/pattern/index.ts';
import type { DeliveryStore } from '../../bus/port.ts';
import { ReboundError } from '../../errors.ts';
import { MAX_EVENT_BYTES, type StoredEvent } from '../../events/envelope.ts';
import { timeOrderedUuid } from '../../events/ids.ts';
import { formatPath, formatPathUnder } from '../../ingest/alertmanager/payload.ts';
import type { EventWriter } from '../../ingest/port.ts';
import { findUnacceptable, mayBeUnacceptable } from '../json-body.ts';
import { assertTimeRange, emptyBody, isoTime, limitParam, parseInput } from '../query.ts';

export interface BusRouteDeps {
  readonly bus: Bus;
  readonly deliveries: DeliveryStore;
  readonly writer: EventWriter;
  readonly account: string;
  readonly region: string;
  readonly now: () => Date;
  /** Re-reads configuration and reloads rules; absent when the server has no configuration file to re-read. */
  readonly reload: () => Promise<{ rules: number }>;
  readonly onStored: () => void;
}

const entrySchema = z
  .object({
    Source: z.string().min(1).max(256),
    DetailType: z.string().min(1).max(128),
    Detail: z.string().min(2),
    Resources: z.array(z.string()).max(100).optional(),
    Time: isoTime.optional(),
    EventBusName: z.string().optional(),
    TraceHeader: z.string().optional(),
  })
  .strict();

const putEventsBody = z
  .object({ Entries: z.array(z.unknown()).min(1).max(10, 'at most 10 entries per call (PutEvents limit)') })
  .strict();

const dlqQuery = z
  .object({
    target: z.string().optional(),
    since: isoTime.optional(),
    cursor: z.string().optional(),
    limit: limitParam,
  })
  .strict();
const redriveBody = z
  .object({
    ids: z.array(z.number().int().positive()).max(10_000).optional(),
    target: z.string().optional(),
    since: isoTime.optional(),
  })
  .strict();
const dlqDeleteBody = z
  .object({
    ids: z.array(z.number().int().positive()).max(10_000).optional(),
    target: z.string().optional(),
    since: isoTime.optional(),
    all: z.literal(true).optional(),
  })
  .strict()
  .refine((b) => b.ids || b.target || b.since || b.all, {
    message: 'name the dead letters to delete: ids, target or since (or all: true for every one)',
  })
  // A filter beside ids would narrow nothing (the ids are deleted as given): refused rather than ignored.
  .refine((b) => !(b.ids && (b.target || b.since || b.all)), {
    message: 'ids name the dead letters on their own: leave out target, since and all, or the ids',
  });
const replayBody = z
  .object({
    from: isoTime,
    to: isoTime,
    pattern: z.record(z.string(), z.unknown()).optional(),
    rule: z.string().optional(),
    dryRun: z.boolean().default(false),
    name: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/)
      .optional(),
  })
  .strict();

/** PutEvents, rules, dead-letter queue, replays and reload. */
export function registerBusRoutes(app: FastifyInstance, deps: BusRouteDeps): void {
  app.post('/v1/events', { config: { role: 'operator' } }, async (request) => {
    const body = parseInput(putEventsBody, request.body, 'body');
    const results: ({ EventId: string } | { ErrorCode: string; ErrorMessage: string })[] = [];
    const events: StoredEvent[] = [];
    const time = deps.now().toISOString();
    for (const raw of body.Entries) {
      const result = toEvent(raw, deps, time);
      if ('event' in result) {
        events.push(result.event);
        results.push({ EventId: result.event.envelope.id });
      } else {
        results.push(result.error);
      }
    }
    if (events.length > 0) {
      await deps.writer.append(events);
      deps.onStored();
    }
    return { FailedEntryCount: body.Entries.length - events.length, Entries: results };
  });

  app.get('/v1/rules', { config: { role: 'viewer' } }, async () => ({
    items: [...deps.bus.ruleSet.rules.values()].map((r) => ({
      name: r.name,
      description: r.config.description ?? null,
      enabled: r.enabled,
      pattern: r.config.pattern,
      targets: r.targets.map((t) => ({ name: t.name, kind: t.config.kind })),
    })),
  }));

  app.get('/v1/dlq', { config: { role: 'viewer' } }, async (request) => {
    const q = parseInput(dlqQuery, request.query, 'query');
    return deps.deliveries.listDeadLetters({
      limit: q.limit,
      ...(q.target ? { target: q.target } : {}),
      ...(q.since ? { since: new Date(q.since).toISOString() } : {}),
      ...(q.cursor ? { cursor: q.cursor } : {}),
    });
  });

  app.get<{ Params: { id: string } }>('/v1/dlq/:id', { config: { role: 'viewer' } }, async (request) => {
    // Ids are positive integers, written plainly: `0x1` or ` 1` is not dead letter 1.
    if (!/^[1-9]\d{0,15}$/.test(request.params.id) || !Number.isSafeInteger(Number(request.params.id)))
      throw new ReboundError(
        'BAD_REQUEST',
        `params.id: a dead letter id is a positive integer, not "${request.params.id}"`,
        {
          path: 'id',
        },
      );
    const entry = await deps.deliveries.getDeadLetter(Number(request.params.id));
    if (!entry) throw new ReboundError('NOT_FOUND', `no dead letter ${request.params.id}`);
    return entry;
  });

  /** The dead letters a redrive or delete body names: its ids, or every one of its target / since its time. */
  const selected = async (body: { ids?: number[]; target?: string; since?: string }) => {
    if (body.ids) return body.ids;
    const ids: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await deps.deliveries.listDeadLetters({
        limit: 1000,
        ...(body.target ? { target: body.target } : {}),
        ...(body.since ? { since: new Date(body.since).toISOString() } : {}),
        ...(cursor ? { cursor } : {}),
      });
      ids.push(...page.items.map((d) => d.id));
      cursor = page.nextCursor;
    } while (cursor);
    return ids;
  };

  app.post('/v1/dlq/redrive', { config: { role: 'operator' } }, async (request) => {
    const body = parseInput(redriveBody, request.body, 'body');
    const redriven = await deps.deliveries.redrive(await selected(body), deps.now().getTime());
    deps.bus.wakeWorkers();
    return { redriven };
  });

  app.post('/v1/dlq/delete', { config: { role: 'operator' } }, async (request) => {
    const body = parseInput(dlqDeleteBody, request.body, 'body');
    const ids = await selected(body);
    const deleted = await deps.deliveries.deleteDeadLetters(ids);
    if (deleted > 0)
      request.log.info(
        { deleted, by: request.principal?.name, selection: body, ids: ids.slice(0, 100) },
        'dead letters deleted without delivery',
      );
    return { deleted };
  });

  app.post('/v1/replays', { config: { role: 'operator' } }, async (request, reply) => {
    const body = parseInput(replayBody, request.body, 'body');
    assertTimeRange(body, 'body');
    if (body.rule && !deps.bus.ruleSet.rules.has(body.rule))
      throw new ReboundError('BAD_REQUEST', `body.rule: no rule "${body.rule}"`, { path: 'rule' });
    if (body.name && deps.bus.hasReplay(body.name))
      throw new ReboundError('CONFLICT', `a replay named ${body.name} already exists`);
    let progress;
    try {
      progress = deps.bus.startReplay({
        from: new Date(body.from).toISOString(),
        to: new Date(body.to).toISOString(),
        dryRun: body.dryRun,
        ...(body.pattern ? { pattern: body.pattern } : {}),
        ...(body.rule ? { rule: body.rule } : {}),
        ...(body.name ? { name: body.name } : {}),
      });
    } catch (err) {
      // Located in the body, as every other field's error is.
      if (!isInvalidEventPatternError(err)) throw err;
      // The pattern's own paths start with a name, or with a bracket for a key that needs quoting.
      const path = formatPathUnder('pattern', err.path ?? '');
      throw new ReboundError('INVALID_PATTERN', `body.${path}: ${err.reason}`, { path });
    }
    return reply.code(202).send(progress);
  });

  app.get<{ Params: { id: string } }>('/v1/replays/:id', { config: { role: 'viewer' } }, async (request) => {
    const progress = deps.bus.replay(request.params.id);
    if (!progress) throw new ReboundError('NOT_FOUND', `no replay ${request.params.id}`);
    return progress;
  });

  app.post('/v1/admin/reload', { config: { role: 'admin' } }, async (request) => {
    parseInput(emptyBody, request.body, 'body');
    return deps.reload();
  });
}

function toEvent(
  raw: unknown,
  deps: BusRouteDeps,
  receivedAt: string,
): { event: StoredEvent } | { error: { ErrorCode: string; ErrorMessage: string } } {
  const parsed = entrySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return {
      error: {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: `${issue.path.join('.') || 'entry'}: ${issue.message}`,
      },
    };
  }
  const entry = parsed.data;
  if (entry.Source.startsWith('rebound.')) {
    return {
      error: {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: 'Source: the rebound.* prefix is reserved for Rebound itself',
      },
    };
  }
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail);
  } catch {
    return { error: { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is not valid JSON' } };
  }
  if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) {
    return { error: { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail must be a JSON object' } };
  }
  const found = mayBeUnacceptable(entry.Detail) ? findUnacceptable(detail) : undefined;
  if (found) {
    const where = formatPathUnder('Detail', formatPath(found.path));
    return { error: { ErrorCode: 'MalformedDetail', ErrorMessage: `${where}: ${found.problem}` } };
  }
  const correlationId = randomUUID();
  const envelope = {
    version: '0' as const,
    // Time-ordered, like every event id Rebound makes (see timeOrderedUuid).
    id: timeOrderedUuid(Date.parse(receivedAt)),
    'detail-type': entry.DetailType,
    source: entry.Source,
    account: deps.account,
    time: entry.Time ? new Date(entry.Time).toISOString() : receivedAt,
    region: deps.region,
    resources: entry.Resources ?? [],
    detail: detail as Record<string, unknown>,
  };
  let serialised: string;
  try {
    serialised = JSON.stringify(envelope);
  } catch {
    return { error: { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail nests too deeply to be stored' } };
  }
  if (Buffer.byteLength(serialised) > MAX_EVENT_BYTES) {
    return { error: { ErrorCode: 'InvalidArgument', ErrorMessage: 'event larger than 256 KB' } };
  }
  return { event: { envelope, correlationId, dedupKey: `put:${envelope.id}`, receivedAt } };
}
