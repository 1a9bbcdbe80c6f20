import { createHmac } from 'node:crypto';
import { runtimeError, StatesError } from './errors.ts';
import type { Finished, StateVisit } from './dataflow.ts';
import type { StateDefinition } from './types.ts';

export const CALLBACK_SUFFIX = '.waitForTaskToken';

/** How a Task resource names the action it runs: `rebound:k8s.restart` → `k8s.restart`; others as written. */
export function actionNameOf(resource: string): string {
  const base = resource.endsWith(CALLBACK_SUFFIX) ? resource.slice(0, -CALLBACK_SUFFIX.length) : resource;
  return base.startsWith('rebound:') ? base.slice('rebound:'.length) : base;
}

/** The idempotency key of one attempt of a Task state: (execution, state visit, redrive epoch, attempt). */
export function taskIdempotencyKey(
  executionId: string,
  visitKey: string,
  epoch: number,
  attempt: number,
): string {
  return `${executionId}/${visitKey}/r${epoch}/a${attempt}`;
}

/** An attempt's callback token: an HMAC of its idempotency key, so a restart issues the same one again. */
export function taskTokenOf(secret: string, idempotencyKey: string): string {
  return createHmac('sha256', secret).update(idempotencyKey).digest('base64url');
}

/**
 * The idempotency key of the attempt a TaskScheduled event records, from its replay key
 * (`<visit>@<epoch>:a<attempt>:scheduled`, see attempts.ts).
 */
export function scheduledIdempotencyKey(executionId: string, eventKey: string): string | undefined {
  const match = /^(.*)@(\d+):a(\d+):scheduled$/.exec(eventKey);
  if (!match) return undefined;
  return taskIdempotencyKey(executionId, match[1]!, Number(match[2]), Number(match[3]));
}

/** One attempt of a Task state: evaluate its input, record TaskScheduled, run it, shape the result. */
export async function runTaskState(
  visit: StateVisit,
  attempt: number,
  attemptKey: string,
): Promise<Finished> {
  const { frame, state } = visit;
  const journal = frame.journal;
  const resource = state.Resource ?? '';
  const idempotencyKey = taskIdempotencyKey(journal.executionId, visit.visitKey, journal.epoch, attempt);
  const taskToken = resource.endsWith(CALLBACK_SUFFIX) ? journal.taskToken(idempotencyKey) : undefined;
  const extra = taskToken === undefined ? {} : { taskToken };
  const parameters = await visit.effectiveInput(extra);
  const timeoutSeconds = await seconds(visit, 'TimeoutSeconds', 'TimeoutSecondsPath');
  const heartbeatSeconds = await seconds(visit, 'HeartbeatSeconds', 'HeartbeatSecondsPath');
  if (heartbeatSeconds !== undefined && timeoutSeconds !== undefined && heartbeatSeconds >= timeoutSeconds) {
    throw runtimeError(`${visit.name}: HeartbeatSeconds must be smaller than TimeoutSeconds`);
  }
  journal.emit(frame, `${attemptKey}:scheduled`, 'TaskScheduled', {
    resourceType: resource.startsWith('rebound:') ? 'rebound' : 'local',
    resource: actionNameOf(resource) + (taskToken === undefined ? '' : CALLBACK_SUFFIX),
    region: 'local',
    parameters,
    ...(timeoutSeconds === undefined ? {} : { timeoutInSeconds: timeoutSeconds }),
    ...(heartbeatSeconds === undefined ? {} : { heartbeatInSeconds: heartbeatSeconds }),
  });
  const outcome = await journal.runTask(frame, {
    key: attemptKey,
    stateName: visit.name,
    resource,
    parameters,
    idempotencyKey,
    taskToken,
    timeoutSeconds,
    heartbeatSeconds,
    signal: frame.signal,
  });
  if (!outcome.ok) throw new StatesError(outcome.error, outcome.cause);
  return visit.finish(outcome.output, { resultSelector: true, resultPath: true });
}

type SecondsField = keyof StateDefinition & ('TimeoutSeconds' | 'HeartbeatSeconds');

/**
 * A task's TimeoutSeconds or HeartbeatSeconds, from the field or its `*Path`. Most tasks set neither: then
 * the answer is undefined at once, without the (async, JSONata-capable) evaluation.
 */
function seconds(
  visit: StateVisit,
  field: SecondsField,
  pathField: 'TimeoutSecondsPath' | 'HeartbeatSecondsPath',
): Promise<number | undefined> | undefined {
  if (visit.state[field] === undefined && visit.state[pathField] === undefined) return undefined;
  return evaluateSeconds(visit, field, pathField);
}

async function evaluateSeconds(
  visit: StateVisit,
  field: SecondsField,
  pathField: 'TimeoutSecondsPath' | 'HeartbeatSecondsPath',
): Promise<number | undefined> {
  const value = visit.state[pathField] !== undefined ? visit.pathValue(pathField) : await visit.value(field);
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw runtimeError(`${visit.name}: ${field} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}
