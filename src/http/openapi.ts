import { z } from 'zod';
import { webhookSchema } from '../ingest/alertmanager/payload.ts';
import { INCIDENT_STATUSES } from '../incidents/lifecycle.ts';
import { HISTORY_EVENT_TYPES } from '../workflows/history.ts';
import { EXECUTION_STATUSES } from '../workflows/statuses.ts';
import { DEFAULT_LIMIT, MAX_LIMIT } from './query.ts';

const errorRef = { $ref: '#/components/schemas/Error' };
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const errors = (...codes: number[]) =>
  Object.fromEntries(codes.map((c) => [String(c), { description: 'error', ...json(errorRef) }]));

const limitParam = {
  name: 'limit',
  in: 'query',
  schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
};
const timeRange = [
  { name: 'from', in: 'query', schema: { type: 'string', format: 'date-time' } },
  { name: 'to', in: 'query', schema: { type: 'string', format: 'date-time' } },
  { name: 'cursor', in: 'query', schema: { type: 'string' } },
  limitParam,
];
const approvalRef = { $ref: '#/components/schemas/Approval' };
const executionRef = { $ref: '#/components/schemas/Execution' };
const pauseRef = { $ref: '#/components/schemas/Pause' };
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
/** A JSON object body with these properties and no others (the routes' zod schemas are strict). */
const strictBody = (required: boolean, properties: Record<string, unknown>, needs: string[] = []) => ({
  required,
  ...json({
    type: 'object',
    ...(needs.length > 0 ? { required: needs } : {}),
    properties,
    additionalProperties: false,
  }),
});
const taskToken = {
  type: 'string',
  minLength: 1,
  maxLength: 1024,
  description: 'the $$.Task.Token the task received',
};
const failure = {
  error: { type: 'string', maxLength: 256 },
  cause: { type: 'string', maxLength: 32768 },
};
const ok = {
  description: '{ok: true}',
  ...json({ type: 'object', required: ['ok'], properties: { ok: { const: true } } }),
};
/** What the three callback-task calls (success, failure, heartbeat) answer. */
const taskAnswers = {
  '200': ok,
  '409': { description: 'the task or its execution already ended', ...json(errorRef) },
  ...errors(400, 401, 403, 404),
};
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
    info: {
      title: 'Rebound API',
      version,
      description:
        'Ingest, events and the bus, incidents, runbooks and their executions, approvals and automation of Rebound.',
    },
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
        Execution: {
          type: 'object',
          description: 'input and output only on one execution, not on the items of a list',
          required: ['executionId', 'name', 'workflow', 'status', 'startDate', 'redriveCount'],
          properties: {
            executionId: { type: 'string', description: '<workflow>:<name>' },
            name: { type: 'string' },
            workflow: { type: 'string', description: '`inline` for a definition given at start' },
            status: { type: 'string', enum: [...EXECUTION_STATUSES] },
            startDate: { type: 'string', format: 'date-time' },
            stopDate: { type: 'string', format: 'date-time' },
            input: {},
            output: {},
            error: { type: 'string' },
            cause: { type: 'string' },
            correlationId: { type: 'string' },
            redriveCount: { type: 'integer' },
          },
        },
        Pause: {
          type: 'object',
          required: ['id', 'match', 'reason', 'createdAt'],
          properties: {
            id: { type: 'string' },
            match: {
              type: 'object',
              additionalProperties: { type: 'string' },
              description: 'label matchers; empty pauses all automation',
            },
            reason: { type: 'string' },
            createdAt: { type: 'string', format: 'date-time' },
            createdBy: { type: 'string' },
            until: { type: 'string', format: 'date-time' },
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
            '200': { description: 'stored (duplicates and stale firing copies acknowledged)' },
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
          summary: 'Stored events in time order (order=desc: newest first)',
          parameters: [
            ...timeRange,
            { name: 'order', in: 'query', schema: { type: 'string', enum: ['asc', 'desc'], default: 'asc' } },
          ],
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
      '/v1/dlq/delete': {
        post: {
          summary:
            'Delete dead letters without delivering them (their events stay in the archive): {ids?}, {target?, since?} or {all: true}',
          responses: { '200': { description: '{deleted}' }, ...errors(400, 401, 403) },
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
          summary:
            'Re-read configuration: rules and API/webhook tokens take effect; restartNeeded names changed settings read only at start (admin)',
          responses: {
            '200': {
              description: 'Reloaded',
              ...json({
                type: 'object',
                required: ['rules', 'restartNeeded'],
                properties: {
                  rules: { type: 'integer', description: 'rules in force' },
                  restartNeeded: { type: 'array', items: { type: 'string' } },
                },
              }),
            },
            ...errors(400, 401, 403),
          },
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
            limitParam,
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
                snoozeSeconds: {
                  type: 'integer',
                  minimum: 1,
                  maximum: 86400,
                  default: 600,
                  description: 'only with decision snooze (400 otherwise)',
                },
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
      '/v1/workflows': {
        get: {
          summary: 'Registered workflows (runbooks)',
          responses: {
            '200': {
              description: '{items: [{name, source, startAt, states, comment?}]}',
              ...json({
                type: 'object',
                properties: {
                  items: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['name', 'source', 'startAt', 'states'],
                      properties: {
                        name: { type: 'string' },
                        source: { type: 'string', description: 'the file it was loaded from, or `api`' },
                        startAt: { type: 'string' },
                        states: { type: 'integer', description: 'number of top-level states' },
                        comment: { type: 'string' },
                      },
                    },
                  },
                },
              }),
            },
            ...errors(401),
          },
        },
      },
      '/v1/workflows/{name}': {
        get: {
          summary: 'One registered workflow with its ASL definition',
          parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': { description: '{name, source, definition}' }, ...errors(401, 404) },
        },
      },
      '/v1/workflows/validate': {
        post: {
          summary: 'Check an ASL definition as the engine would (known actions included); nothing is stored',
          requestBody: strictBody(true, {
            definition: { description: 'the state machine; anything but a JSON object is one issue' },
          }),
          responses: {
            '200': {
              description: '{valid, issues: [{path, message}]}',
              ...json({
                type: 'object',
                required: ['valid', 'issues'],
                properties: {
                  valid: { type: 'boolean' },
                  issues: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['path', 'message'],
                      properties: {
                        path: { type: 'string', description: 'e.g. States.Restart.Resource' },
                        message: { type: 'string' },
                      },
                    },
                  },
                },
              }),
            },
            ...errors(400, 401, 403),
          },
        },
      },
      '/v1/executions': {
        post: {
          summary: 'Start an execution of a registered workflow or of a definition given inline (operator)',
          requestBody: {
            required: true,
            ...json({
              type: 'object',
              description: 'exactly one of workflow or definition',
              oneOf: [{ required: ['workflow'] }, { required: ['definition'] }],
              properties: {
                workflow: { type: 'string', minLength: 1 },
                definition: { type: 'object', description: 'an ASL state machine' },
                input: { description: 'any JSON value', default: {} },
                name: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,80}$', description: 'default a UUID' },
                correlationId: { type: 'string', maxLength: 200 },
              },
              additionalProperties: false,
            }),
          },
          responses: {
            '201': {
              description: '{executionId, name, startDate}',
              ...json({
                type: 'object',
                required: ['executionId', 'name', 'startDate'],
                properties: {
                  executionId: { type: 'string' },
                  name: { type: 'string' },
                  startDate: { type: 'string', format: 'date-time' },
                },
              }),
            },
            '409': { description: 'an execution of that name exists', ...json(errorRef) },
            ...errors(400, 401, 403, 404),
          },
        },
        get: {
          summary: 'Executions, newest first',
          parameters: [
            { name: 'status', in: 'query', schema: { type: 'string', enum: [...EXECUTION_STATUSES] } },
            { name: 'cursor', in: 'query', schema: { type: 'string' } },
            limitParam,
          ],
          responses: {
            '200': {
              description: '{items, nextCursor?}',
              ...json({
                type: 'object',
                required: ['items'],
                properties: { items: { type: 'array', items: executionRef }, nextCursor: { type: 'string' } },
              }),
            },
            ...errors(400, 401),
          },
        },
      },
      '/v1/executions/{id}': {
        get: {
          summary: 'One execution with its input, output, error and cause',
          parameters: [idParam],
          responses: { '200': { description: 'the execution', ...json(executionRef) }, ...errors(401, 404) },
        },
      },
      '/v1/executions/{id}/history': {
        get: {
          summary: "The execution's history events, in Step Functions' shape",
          parameters: [idParam],
          responses: {
            '200': {
              description: '{events: [{id, previousEventId, timestamp, type, <type>EventDetails?}]}',
              ...json({
                type: 'object',
                required: ['events'],
                properties: {
                  events: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['id', 'previousEventId', 'timestamp', 'type'],
                      properties: {
                        id: { type: 'integer' },
                        previousEventId: { type: 'integer' },
                        timestamp: { type: 'string', format: 'date-time' },
                        type: { type: 'string', enum: [...HISTORY_EVENT_TYPES] },
                      },
                    },
                  },
                },
              }),
            },
            ...errors(401, 404),
          },
        },
      },
      '/v1/executions/{id}/stop': {
        post: {
          summary: 'Stop a running execution: its tasks are cancelled (operator)',
          parameters: [idParam],
          requestBody: strictBody(false, failure),
          responses: {
            '200': { description: 'the ABORTED execution', ...json(executionRef) },
            '409': {
              description: 'already ended, or run by another live worker (retry)',
              ...json(errorRef),
            },
            ...errors(400, 401, 403, 404),
          },
        },
      },
      '/v1/executions/{id}/redrive': {
        post: {
          summary:
            'Redrive a FAILED, TIMED_OUT or ABORTED execution from where it failed; succeeded states are not re-run (operator)',
          parameters: [idParam],
          responses: {
            '200': { description: 'the RUNNING execution', ...json(executionRef) },
            '409': { description: 'RUNNING or SUCCEEDED: nothing to redrive', ...json(errorRef) },
            ...errors(401, 403, 404),
          },
        },
      },
      '/v1/tasks/success': {
        post: {
          summary: 'Complete a callback task (.waitForTaskToken) with its output (operator)',
          requestBody: strictBody(true, { taskToken, output: { description: 'any JSON value' } }, [
            'taskToken',
            'output',
          ]),
          responses: taskAnswers,
        },
      },
      '/v1/tasks/failure': {
        post: {
          summary: 'Fail a callback task (.waitForTaskToken) with an error and cause (operator)',
          requestBody: strictBody(true, { taskToken, ...failure }, ['taskToken']),
          responses: taskAnswers,
        },
      },
      '/v1/tasks/heartbeat': {
        post: {
          summary: "Record a callback task's heartbeat (resets its HeartbeatSeconds clock) (operator)",
          requestBody: strictBody(true, { taskToken }, ['taskToken']),
          responses: taskAnswers,
        },
      },
      '/v1/automation': {
        get: {
          summary:
            'Whether automation acts for real (mode), and the pauses, breakers, budgets and locks in force',
          responses: {
            '200': {
              description:
                '{mode: {mode: live|shadow, reason?, message, missing?}, shadow: {global, runbooks}, pauses: [Pause], breakers: [{scope, state, successRate?, outcomes, openedAt?, reason?, resetAt?, resetBy?}], budgets: [{target, used, limit, nextSlotAt?}], locks: [{target, owner, expiresAt}]}',
            },
            ...errors(401),
          },
        },
      },
      '/v1/automation/pause': {
        post: {
          summary:
            'Pause automation (a maintenance window) for alerts matching every label, or all of it without match (operator)',
          requestBody: strictBody(false, {
            match: {
              type: 'object',
              propertyNames: { pattern: '^[a-zA-Z_][a-zA-Z0-9_]*$' },
              additionalProperties: { type: 'string', minLength: 1 },
            },
            until: {
              type: 'string',
              format: 'date-time',
              description: 'in the future; default until resumed',
            },
            reason: { type: 'string', maxLength: 1000 },
          }),
          responses: {
            '201': {
              description: '{pause}',
              ...json({ type: 'object', required: ['pause'], properties: { pause: pauseRef } }),
            },
            ...errors(400, 401, 403),
          },
        },
      },
      '/v1/automation/resume': {
        post: {
          summary:
            'Lift the pause pauseId, the pauses and breaker of a scope, or without either every pause and open breaker (admin)',
          requestBody: strictBody(false, {
            scope: {
              type: 'string',
              pattern: '^[^/\\s]+(/[^/\\s]+)?$',
              description: 'a breaker scope: cluster or cluster/namespace',
            },
            pauseId: { type: 'string', minLength: 1 },
          }),
          responses: {
            '200': {
              description: '{removedPauses, resetBreakers}',
              ...json({
                type: 'object',
                required: ['removedPauses', 'resetBreakers'],
                properties: {
                  removedPauses: { type: 'array', items: pauseRef },
                  resetBreakers: { type: 'array', items: { type: 'string' } },
                },
              }),
            },
            ...errors(400, 401, 403, 404),
          },
        },
      },
      '/v1/info': {
        get: {
          summary: 'Server version and how it authenticates API calls',
          security: [],
          responses: {
            '200': {
              description: '{version, auth}',
              ...json({
                type: 'object',
                required: ['version', 'auth'],
                properties: {
                  version: { type: 'string' },
                  auth: { type: 'string', enum: ['open', 'token'] },
                },
              }),
            },
          },
        },
      },
      '/v1/openapi.json': {
        get: {
          summary: 'This document',
          security: [],
          responses: { '200': { description: 'OpenAPI 3.1' } },
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
          description:
            'Needs a viewer token whenever the API does, unless `server.auth.publicMetrics` is set.',
          responses: { '200': { description: 'text exposition format' }, ...errors(401) },
        },
      },
    },
  };
}
