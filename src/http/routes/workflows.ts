import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ReboundError } from '../../errors.ts';
import type { Engine } from '../../workflows/engine.ts';
import type { ExecutionRecord, ExecutionSummary } from '../../workflows/port.ts';
import type { WorkflowRegistry } from '../../workflows/registry.ts';
import { EXECUTION_STATUSES } from '../../workflows/statuses.ts';
import type { Json, MachineDefinition } from '../../workflows/types.ts';
import { validateDefinition, type ValidateOptions } from '../../workflows/validate.ts';
import { emptyBody, limitParam, parseInput } from '../query.ts';
import { authorize } from '../auth.ts';
import type { ExecutionView } from '../views.ts';

export interface WorkflowRouteDeps {
  readonly engine: Engine;
  readonly registry: WorkflowRegistry;
  /** The same options the registry validates with (known actions), for POST /v1/workflows/validate. */
  readonly validation?: ValidateOptions;
  /** The approval a task token belongs to: such a task is decided through the approval, never directly. */
  readonly approvalOf?: (taskToken: string) => Promise<string | undefined>;
}

const json = z.custom<Json>((v) => v !== undefined, { message: 'a JSON value' });
const startBody = z
  .object({
    workflow: z.string().min(1).optional(),
    definition: z.record(z.string(), z.unknown()).optional(),
    input: json.default({}),
    name: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,80}$/, 'letters, digits, _ or - (max 80)')
      .optional(),
    correlationId: z.string().max(200).optional(),
  })
  .strict()
  .refine(
    (b) => (b.workflow === undefined) !== (b.definition === undefined),
    'give exactly one of workflow or definition',
  );
const listQuery = z
  .object({ status: z.enum(EXECUTION_STATUSES).optional(), cursor: z.string().optional(), limit: limitParam })
  .strict();
const stopBody = z
  .object({ error: z.string().max(256).optional(), cause: z.string().max(32_768).optional() })
  .strict();
const tokenBody = z.object({ taskToken: z.string().min(1).max(1024) });
const successBody = tokenBody.extend({ output: json }).strict();
const failureBody = tokenBody
  .extend({ error: z.string().max(256).optional(), cause: z.string().max(32_768).optional() })
  .strict();
const validateBody = z
  .object({
    definition: z.unknown().refine((d) => d !== undefined, 'required: the state machine definition to check'),
  })
  .strict();
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** The REST view of an execution (times as ISO-8601). */
export function executionView(r: ExecutionSummary | ExecutionRecord): ExecutionView {
  return {
    executionId: r.id,
    name: r.name,
    workflow: r.machineName,
    status: r.status,
    startDate: new Date(r.startTime).toISOString(),
    stopDate: iso(r.stopTime),
    ...('input' in r ? { input: r.input, output: r.output } : {}),
    error: r.error,
    cause: r.cause,
    correlationId: r.correlationId,
    redriveCount: r.redriveCount,
  };
}

/** `/v1/workflows`, `/v1/executions` and `/v1/tasks` (callbacks). Errors are thrown as ReboundError. */
export function registerWorkflowRoutes(app: FastifyInstance, deps: WorkflowRouteDeps): void {
  const { engine, registry } = deps;

  app.get('/v1/workflows', { config: { role: 'viewer' } }, async () => ({
    items: registry.list().map((w) => ({
      name: w.name,
      source: w.source,
      startAt: w.definition.StartAt,
      states: Object.keys(w.definition.States).length,
      comment: w.definition.Comment,
    })),
  }));

  app.get<{ Params: { name: string } }>(
    '/v1/workflows/:name',
    { config: { role: 'viewer' } },
    async (request) => {
      const w = registry.require(request.params.name);
      return { name: w.name, source: w.source, definition: w.definition };
    },
  );

  app.post('/v1/workflows/validate', { config: { role: 'viewer' } }, async (request) => {
    const body = parseInput(validateBody, request.body, 'body');
    const issues = validateDefinition(body.definition, deps.validation ?? {});
    return { valid: issues.length === 0, issues };
  });

  app.post('/v1/executions', { config: { role: 'operator' } }, async (request, reply) => {
    const b = parseInput(startBody, request.body, 'body');
    // A definition of one's own can call any action: admins only. Operators start the configured runbooks.
    if (b.definition !== undefined && request.principal) authorize(request.principal, 'admin');
    const target = b.workflow ?? (b.definition as unknown as MachineDefinition);
    const started = await engine.startExecution(target, b.input, {
      name: b.name,
      correlationId: b.correlationId,
    });
    reply.code(201);
    return { executionId: started.executionId, name: started.name, startDate: iso(started.startTime) };
  });

  app.get('/v1/executions', { config: { role: 'viewer' } }, async (request) => {
    const q = parseInput(listQuery, request.query, 'query');
    const page = await engine.list({ status: q.status, limit: q.limit, cursor: q.cursor });
    return { items: page.items.map(executionView), nextCursor: page.nextCursor };
  });

  app.get<{ Params: { id: string } }>('/v1/executions/:id', { config: { role: 'viewer' } }, async (request) =>
    executionView(await engine.describe(request.params.id)),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/executions/:id/history',
    { config: { role: 'viewer' } },
    // Viewers may read what ran, not take the callback tokens that would let them (or a leak) complete it.
    async (request) => ({
      events: await engine.history(request.params.id, {
        hideTaskTokens: request.principal?.role === 'viewer',
      }),
    }),
  );

  app.post<{ Params: { id: string } }>(
    '/v1/executions/:id/stop',
    { config: { role: 'operator' } },
    async (request) => {
      const b = parseInput(stopBody, request.body, 'body');
      return executionView(await engine.stopExecution(request.params.id, b.error, b.cause));
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/executions/:id/redrive',
    { config: { role: 'operator' } },
    async (request) => {
      parseInput(emptyBody, request.body, 'body');
      return executionView(await engine.redrive(request.params.id));
    },
  );

  /** An approval's task completed directly would skip its record, its audit and Slack's allowed users. */
  const notAnApproval = async (taskToken: string) => {
    const id = await deps.approvalOf?.(taskToken);
    if (id !== undefined)
      throw new ReboundError(
        'FORBIDDEN',
        `this task waits for approval ${id}: decide it with \`rebound approve ${id}\` or \`rebound deny ${id}\` ` +
          `(POST /v1/approvals/${id}/decision), so the decision is recorded`,
      );
  };

  app.post('/v1/tasks/success', { config: { role: 'operator' } }, async (request) => {
    const b = parseInput(successBody, request.body, 'body');
    await notAnApproval(b.taskToken);
    await engine.sendTaskSuccess(b.taskToken, b.output);
    return { ok: true };
  });

  app.post('/v1/tasks/failure', { config: { role: 'operator' } }, async (request) => {
    const b = parseInput(failureBody, request.body, 'body');
    await notAnApproval(b.taskToken);
    await engine.sendTaskFailure(b.taskToken, b.error, b.cause);
    return { ok: true };
  });

  app.post('/v1/tasks/heartbeat', { config: { role: 'operator' } }, async (request) => {
    const b = parseInput(tokenBody.strict(), request.body, 'body');
    await engine.sendTaskHeartbeat(b.taskToken);
    return { ok: true };
  });
}
