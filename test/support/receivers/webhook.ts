import { HttpRecorder } from './http-recorder.ts';

/** A generic JSON webhook consumer: 200 `{received: true}` to every POST; script failures with `script()`. */
export function startWebhookReceiver(): Promise<HttpRecorder> {
  return HttpRecorder.start((req) =>
    req.method === 'POST' ? { status: 200, body: { received: true } } : { status: 405 },
  );
}
