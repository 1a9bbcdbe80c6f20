import type { FastifyInstance } from 'fastify';
import type { Engine } from '../../workflows/engine.ts';

/**
 * `GET /v1/executions/{id}/definition`: the ASL definition the execution runs (as stored with it, so inline
 * and since-changed runbooks draw as they ran), for the dashboard's runbook graph.
 */
export function registerExecutionGraphRoutes(app: FastifyInstance, deps: { engine: Engine }): void {
  app.get<{ Params: { id: string } }>(
    '/v1/executions/:id/definition',
    { config: { role: 'viewer' } },
    async (request) => {
      const record = await deps.engine.describe(request.params.id);
      return { executionId: record.id, workflow: record.machineName, definition: record.definition };
    },
  );
}
