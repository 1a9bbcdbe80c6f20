import { z } from 'zod';
import { webhookSchema } from '../ingest/alertmanager/payload.ts';
import { INCIDENT_STATUSES } from '../incidents/lifecycle.ts';

const errorRef = { $ref: '#/components/schemas/Error' };
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: 'error', ...json(errorRef) }]));

const timeRange = [
  { name: 'from', in: 'query', schema: { type: 'string', format: 'date-time' } },
  { name: 'to', in: 'query', schema: { type: 'string', format: 'date-time' } },
  { name: 'cursor', in: 'query', schema: { type: 'string' } },
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
];
const approvalRef = { $ref: '#/components/schemas/Approval' };
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const actionBody = {
  required: false,
  ...json({
    type: 'object',
    properties: { actor: { type: 'string' }, comment: { type: 'string' } },
    additionalProperties: false,
  }),
};

/** The OpenAPI 3.1 description of the REST API served at /v1/openapi.json. */
export function buildOpenApi(version: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: { title: 'Rebound API', version, description: 'Incidents, events and ingest of Rebound.' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['code', 'message'],
          properties: { code: { type: 'string' }, message: { type: 'string' }, path: { type: 'string' } },
        },
        AlertmanagerWebhook: z.toJSONSchema(webhookSchema, { io: 'input', unrepresentable: 'any' }),
        Approval: {
          type: 'object',
          required: [
            'id',
            'executionId',
            'incidentId',
            'runbook',
            'summary',
            'status',
            'createdAt',
            'expiresAt',
          ],
          properties: {
            id: { type: 'string' },
            executionId: { type: 'string' },
            incidentId: { type: ['string', 'null'] },
            runbook: { type: 'string' },
            summary: { type: 'string' },
            status: { type: 'string', enum: ['pending', 'decided', 'expired'] },
            onTimeout: { type: 'string' },
            decision: { type: 'string', enum: ['remediate', 'skip', 'snooze'] },
            decidedBy: { type: 'string' },
            via: { type: 'string', enum: ['slack', 'api', 'cli', 'dashboard', 'timeout'] },
            snoozeSeconds: { type: 'integer' },
            reason: { type: 'string' },
            createdAt: { type: 'string', format: 'date-time' },
            expiresAt: { type: 'string', format: 'date-time' },
            decidedAt: { type: 'string', format: 'date-time' },
          },
        },
      },
    },
    security: [{ bearer: [] }],
    paths: {
      '/v1/webhooks/alertmanager': {
        post: {
          summary: 'Receive an Alertmanager webhook (payload version 4); 200 only once durable',
          requestBody: { required: true, ...json({ $ref: '#/components/schemas/AlertmanagerWebhook' }) },
          responses: {
            '200': { description: 'stored (duplicates acknowledged)' },
            ...errors(400, 401, 413, 415, 503),
          },
        },
      },
      '/v1/incidents': {
        get: {
          summary: 'List incidents, newest first',
          parameters: [
            {
              name: 'status',
              in: 'query',
              schema: { type: 'string' },
              description: `comma-separated: ${INCIDENT_STATUSES.join(', ')}`,
            },
            { name: 'service', in: 'query', schema: { type: 'string' } },
            ...timeRange,
          ],
          responses: { '200': { description: '{items, nextCursor?}' }, ...errors(400, 401, 403) },
        },
      },
      '/v1/incidents/{id}': {
        get: {
          summary: 'One incident with its alerts and timeline',
          parameters: [idParam],
          responses: { '200': { description: '{incident, alerts, timeline}' }, ...errors(401, 404) },
        },
      },
      '/v1/incidents/{id}/acknowledge': {
        post: {
          summary: 'Acknowledge',
          parameters: [idParam],
          requestBody: actionBody,
          responses: { '200': { description: '{incident}' }, ...errors(400, 401, 403, 404, 409) },
        },
      },
      '/v1/incidents/{id}/resolve': {
        post: {
          summary: 'Resolve',
          parameters: [idParam],
          requestBody: actionBody,
          responses: { '200': { description: '{incident}' }, ...errors(400, 401, 403, 404, 409) },
        },
      },
      '/v1/events': {
        post: {
          summary:
            'PutEvents-style batch {Entries: [{Source, DetailType, Detail, Resources?, Time?}]} (≤ 10, ≤ 256 KB each)',
          responses: {
            '200': { description: '{FailedEntryCount, Entries: [{EventId} | {ErrorCode, ErrorMessage}]}' },
            ...errors(400, 401, 403),
          },
        },
        get: {
          summary: 'Stored events in time order',
          parameters: timeRange,
          responses: { '200': { description: '{items, nextCursor?}' }, ...errors(400, 401) },
        },
      },
      '/v1/events/{id}': {
        get: {
          summary: 'One stored event',
          parameters: [idParam],
          responses: { '200': { description: 'event' }, ...errors(401, 404) },
        },
      },
      '/v1/rules': {
        get: {
          summary: 'Rules in force with their targets',
          responses: { '200': { description: '{items}' } },
        },
      },
      '/v1/dlq': {
        get: {
          summary: 'Dead letters, oldest first (?target=&since=&cursor=&limit=)',
          responses: { '200': { description: '{items, nextCursor?}' }, ...errors(400, 401) },
        },
      },
      '/v1/dlq/{id}': {
        get: {
          summary: 'One dead letter with its event',
          parameters: [idParam],
          responses: { '200': { description: 'dead letter' }, ...errors(404) },
        },
      },
      '/v1/dlq/redrive': {
        post: {
          summary: 'Re-deliver dead letters: {ids?} or {target?, since?}',
          responses: { '200': { description: '{redriven}' }, ...errors(400, 401, 403) },
        },
      },
      '/v1/replays': {
        post: {
          summary: 'Replay archived events {from, to, pattern?, rule?, dryRun?, name?}',
          responses: { '202': { description: 'progress' }, ...errors(400, 401, 403, 409) },
        },
      },
      '/v1/replays/{id}': {
        get: {
          summary: 'Replay progress',
          parameters: [idParam],
          responses: { '200': { description: 'progress' }, ...errors(404) },
        },
      },
      '/v1/admin/reload': {
        post: {
          summary: 'Re-read configuration and reload rules (admin)',
          responses: { '200': { description: '{rules}' }, ...errors(401, 403) },
        },
      },
      '/v1/session': {
        get: {
          summary:
            'How the server authenticates (open or token) and the signed-in principal, with its CSRF token',
          security: [],
          responses: { '200': { description: '{mode, principal, csrfToken}' } },
        },
        post: {
          summary:
            'Sign in with an API token: sets an httpOnly SameSite=Strict session cookie; writes made with it need X-CSRF-Token',
          security: [],
          requestBody: {
            required: true,
            ...json({
              type: 'object',
              required: ['token'],
              properties: { token: { type: 'string' } },
              additionalProperties: false,
            }),
          },
          responses: { '200': { description: '{mode, principal, csrfToken}' }, ...errors(400, 401, 403) },
        },
        delete: {
          summary: 'Sign out (clears the session cookie)',
          security: [],
          responses: { '204': { description: 'signed out' } },
        },
      },
      '/v1/stream': {
        get: {
          summary:
            'Server-Sent Events: `incident`, `execution`, `approval`, `dlq` with data {id} when one changes; `ready` on (re)connect',
          responses: { '200': { description: 'text/event-stream' }, ...errors(401) },
        },
      },
      '/v1/analytics': {
        get: {
          summary:
            'MTTR/MTTA trends (overall and per service), frequency by service and alert, remediation effectiveness by action and runbook, automated vs escalated share, over incidents opened in [from, to) (default the last 7 days)',
          parameters: [
            { name: 'from', in: 'query', schema: { type: 'string', format: 'date-time' } },
            { name: 'to', in: 'query', schema: { type: 'string', format: 'date-time' } },
            { name: 'service', in: 'query', schema: { type: 'string' } },
            { name: 'bucket', in: 'query', schema: { type: 'string', enum: ['hour', 'day'] } },
          ],
          responses: { '200': { description: 'the report' }, ...errors(400, 401) },
        },
      },
      '/v1/analytics/{section}': {
        get: {
          summary: 'One section of the analytics report (same query parameters)',
          parameters: [
            {
              name: 'section',
              in: 'path',
              required: true,
              schema: { type: 'string', enum: ['overall', 'trends', 'frequency', 'effectiveness', 'share'] },
            },
          ],
          responses: { '200': { description: '{range, <section>}' }, ...errors(400, 401, 404) },
        },
      },
      '/v1/bus/stats': {
        get: {
          summary: 'Rules with match counts; targets with delivery counters and queue / DLQ depths',
          responses: {
            '200': { description: '{countingSince, rules}: counters since the process started, depths now' },
            ...errors(401),
          },
        },
      },
      '/v1/executions/{id}/definition': {
        get: {
          summary: 'The ASL definition an execution runs (as stored with it)',
          parameters: [idParam],
          responses: { '200': { description: '{executionId, workflow, definition}' }, ...errors(401, 404) },
        },
      },
      '/v1/dashboard': {
        get: {
          summary: 'Dashboard settings: version and links to the Prometheus and Alertmanager UIs',
          responses: { '200': { description: '{version, links}' }, ...errors(401) },
        },
      },
      '/v1/approvals': {
        get: {
          summary: 'Approvals runbooks wait for, newest first',
          parameters: [
            {
              name: 'status',
              in: 'query',
              schema: { type: 'string', enum: ['pending', 'decided', 'expired', 'all'], default: 'all' },
            },
            {
              name: 'limit',
              in: 'query',
              schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            },
          ],
          responses: {
            '200': {
              description: '{items}',
              ...json({ type: 'object', properties: { items: { type: 'array', items: approvalRef } } }),
            },
            ...errors(400, 401, 403),
          },
        },
      },
      '/v1/approvals/{id}': {
        get: {
          summary: 'One approval',
          parameters: [idParam],
          responses: { '200': { description: 'the approval', ...json(approvalRef) }, ...errors(401, 404) },
        },
      },
      '/v1/approvals/{id}/decision': {
        post: {
          summary: 'Decide a pending approval (operator); the waiting runbook resumes with the decision',
          parameters: [idParam],
          requestBody: {
            required: true,
            ...json({
              type: 'object',
              required: ['decision'],
              properties: {
                decision: { type: 'string', enum: ['remediate', 'skip', 'snooze'] },
                via: { type: 'string', enum: ['api', 'cli', 'dashboard'], default: 'api' },
                snoozeSeconds: { type: 'integer', minimum: 1, maximum: 86400, default: 600 },
              },
              additionalProperties: false,
            }),
          },
          responses: {
            '200': { description: 'the decided approval', ...json(approvalRef) },
            '409': { description: 'already decided, or expired (details.approval)', ...json(errorRef) },
            ...errors(400, 401, 403, 404),
          },
        },
      },
      '/v1/integrations/slack/interactions': {
        post: {
          summary:
            'Slack interactivity Request URL (approval buttons); authenticated by the Slack request signature',
          security: [],
          requestBody: {
            required: true,
            content: {
              'application/x-www-form-urlencoded': {
                schema: { type: 'object', properties: { payload: { type: 'string' } } },
              },
            },
          },
          responses: {
            '200': { description: 'accepted; the message is updated through response_url' },
            ...errors(400, 401, 404),
          },
        },
      },
      '/healthz': { get: { summary: 'Liveness', security: [], responses: { '200': { description: 'ok' } } } },
      '/readyz': {
        get: {
          summary: 'Readiness (store reachable)',
          security: [],
          responses: { '200': { description: 'ready' }, '503': { description: 'not ready' } },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          security: [],
          responses: { '200': { description: 'text exposition format' } },
        },
      },
    },
  };
}
