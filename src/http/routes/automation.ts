import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { PauseInput, ResumeInput } from '../../guard/automation.ts';
import type { AutomationView, PauseView, ResumeResult } from '../../guard/views.ts';
import { isoTime, parseInput } from '../query.ts';
import { actorOf } from '../server.ts';

/** What the automation routes need: the guard's operator levers (`Automation` in src/guard). */
export interface AutomationApi {
  /** Pauses, breakers, budgets, locks, shadow settings and whether automation acts for real. */
  status(): Promise<AutomationView>;
  /** Starts a pause (maintenance window). */
  pause(input: PauseInput): Promise<PauseView>;
  /** Lifts pauses and resets breakers. */
  resume(input: ResumeInput): Promise<ResumeResult>;
}

const labelName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'a label name such as namespace or alertname');

const pauseBody = z
  .object({
    match: z.record(labelName, z.string().min(1)).optional(),
    until: isoTime.optional(),
    reason: z.string().max(1000).optional(),
  })
  .strict();

const resumeBody = z
  .object({
    scope: z
      .string()
      .regex(/^[^/\s]+(\/[^/\s]+)?$/, 'a breaker scope: cluster or cluster/namespace')
      .optional(),
    pauseId: z.string().min(1).optional(),
  })
  .strict();

/** `GET /v1/automation`, `POST /v1/automation/pause`, `POST /v1/automation/resume`. */
export function registerAutomationRoutes(app: FastifyInstance, deps: { automation: AutomationApi }): void {
  const { automation } = deps;

  app.get('/v1/automation', { config: { role: 'viewer' } }, async () => automation.status());

  app.post('/v1/automation/pause', { config: { role: 'operator' } }, async (request, reply) => {
    const body = parseInput(pauseBody, request.body, 'body');
    const pause = await automation.pause({
      createdBy: actorOf(request),
      ...(body.match ? { match: body.match } : {}),
      ...(body.until ? { until: new Date(body.until) } : {}),
      ...(body.reason ? { reason: body.reason } : {}),
    });
    return reply.code(201).send({ pause });
  });

  app.post('/v1/automation/resume', { config: { role: 'admin' } }, async (request) => {
    const body = parseInput(resumeBody, request.body, 'body');
    return automation.resume({
      by: actorOf(request),
      ...(body.scope ? { scope: body.scope } : {}),
      ...(body.pauseId ? { pauseId: body.pauseId } : {}),
    });
  });
}
