import { HttpRecorder, type ScriptedResponse } from './http-recorder.ts';

/**
 * Slack incoming webhooks and `response_url`s: POST JSON → 200 `ok` (text/plain). Failures Slack documents,
 * for `script()`: 400 `invalid_payload`, 403 `action_prohibited`, 404 `no_service`, 429 with Retry-After.
 */
export const slackAnswers = {
  invalidPayload: { status: 400, body: 'invalid_payload' },
  noService: { status: 404, body: 'no_service' },
  rateLimited: (seconds: number): ScriptedResponse => ({
    status: 429,
    headers: { 'retry-after': String(seconds) },
    body: 'rate_limited',
  }),
  serverError: { status: 500, body: 'internal_error' },
} satisfies Record<string, ScriptedResponse | ((s: number) => ScriptedResponse)>;

export function startSlackReceiver(): Promise<HttpRecorder> {
  return HttpRecorder.start((req) => {
    if (req.method !== 'POST') return { status: 405, body: 'invalid_method' };
    try {
      const body = JSON.parse(req.body) as { text?: unknown; blocks?: unknown };
      if (typeof body.text !== 'string' && !Array.isArray(body.blocks)) return slackAnswers.invalidPayload;
    } catch {
      return slackAnswers.invalidPayload;
    }
    return { status: 200, body: 'ok' };
  });
}
