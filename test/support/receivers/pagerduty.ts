import { HttpRecorder } from './http-recorder.ts';

/**
 * PagerDuty Events API v2 (`POST /v2/enqueue`), validating like the real one: 202
 * `{status:"success", message:"Event processed", dedup_key}`; 400 `{status:"invalid event", message, errors}`.
 * Script 429 / 5xx with `script()`.
 */
export function startPagerDutyReceiver(): Promise<HttpRecorder> {
  let generated = 0;
  return HttpRecorder.start((req) => {
    if (req.method !== 'POST' || req.path !== '/v2/enqueue')
      return { status: 404, body: { status: 'not found' } };
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(req.body) as Record<string, unknown>;
    } catch {
      return invalid(['Event object is not valid JSON']);
    }
    const errors = validate(event);
    if (errors.length > 0) return invalid(errors);
    const dedupKey = typeof event['dedup_key'] === 'string' ? event['dedup_key'] : `generated-${++generated}`;
    return { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: dedupKey } };
  });
}

function invalid(errors: string[]) {
  return { status: 400, body: { status: 'invalid event', message: 'Event object is invalid', errors } };
}

function validate(event: Record<string, unknown>): string[] {
  const errors: string[] = [];
  if (typeof event['routing_key'] !== 'string' || event['routing_key'].length !== 32)
    errors.push("'routing_key' is invalid");
  const action = event['event_action'];
  if (action !== 'trigger' && action !== 'acknowledge' && action !== 'resolve')
    errors.push("'event_action' is invalid");
  const dedup = event['dedup_key'];
  if (dedup !== undefined && (typeof dedup !== 'string' || dedup.length > 255))
    errors.push("'dedup_key' is invalid");
  if (action !== 'trigger' && typeof dedup !== 'string')
    errors.push("'dedup_key' is required for acknowledge and resolve");
  if (action === 'trigger') {
    const payload = event['payload'] as Record<string, unknown> | undefined;
    if (!payload || typeof payload !== 'object') return [...errors, "'payload' is missing"];
    if (typeof payload['summary'] !== 'string' || payload['summary'].length > 1024)
      errors.push("'payload.summary' is invalid");
    if (typeof payload['source'] !== 'string' || payload['source'] === '')
      errors.push("'payload.source' is missing");
    if (!['critical', 'error', 'warning', 'info'].includes(String(payload['severity'])))
      errors.push("'payload.severity' is invalid");
  }
  return errors;
}
