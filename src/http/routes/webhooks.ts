import type { FastifyInstance } from 'fastify';
import { ReboundError, isReboundError } from '../../errors.ts';
import type { AlertmanagerReceiver } from '../../ingest/alertmanager/receiver.ts';
import type { CoreMetrics } from '../../telemetry/metrics.ts';
import type { WebhookAuthenticator } from '../auth.ts';
import { JSON_TYPES, jsonBodyParser } from '../json-body.ts';

export interface WebhookRouteDeps {
  readonly receiver: AlertmanagerReceiver;
  readonly auth: WebhookAuthenticator;
  readonly metrics: CoreMetrics;
}

const REJECT_REASON: Partial<Record<string, string>> = {
  INVALID_PAYLOAD: 'invalid',
  BAD_REQUEST: 'invalid',
  UNAUTHORIZED: 'unauthorized',
  PAYLOAD_TOO_LARGE: 'too_large',
  UNSUPPORTED_MEDIA_TYPE: 'unsupported',
  OVERLOADED: 'overloaded',
};

/** Fastify's own refusals, before the route runs. */
const FASTIFY_REJECT_REASON: Partial<Record<string, string>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported',
};

/** `POST /v1/webhooks/alertmanager`: 200 only once every alert of the notification is durable. */
export function registerWebhookRoutes(app: FastifyInstance, deps: WebhookRouteDeps): void {
  const { receiver, auth, metrics } = deps;
  app.register(async (scope) => {
    // The token and the presence and format of the signature headers, before the body is read or judged.
    scope.addHook('onRequest', async (request) => {
      auth.verifyToken(request.headers);
      auth.verifySignatureHeaders(request.headers);
    });
    // The body signature is checked on the raw bytes before they are parsed: an unsigned sender cannot make
    // Rebound parse a body of up to server.bodyLimitBytes.
    scope.removeContentTypeParser(JSON_TYPES);
    scope.addContentTypeParser(
      JSON_TYPES,
      { parseAs: 'buffer' },
      jsonBodyParser((request, raw) => auth.verifySignature(request.headers, raw)),
    );
    // Every refusal, from the token check, the signature check, the parser or the handler, counted once here.
    scope.addHook('onError', async (_request, _reply, error) => {
      const code = isReboundError(error) ? error.code : ((error as { code?: string }).code ?? '');
      const reason = REJECT_REASON[code] ?? FASTIFY_REJECT_REASON[code];
      if (reason) metrics.rejects.inc({ reason });
    });
    scope.post('/v1/webhooks/alertmanager', async (request, reply) => {
      const started = performance.now();
      // Without a Content-Type and a body, Fastify runs no parser: the signature is of the empty body then.
      if (!request.rawBody) auth.verifySignature(request.headers, Buffer.alloc(0));
      if (!request.rawBody || request.body === undefined) {
        throw new ReboundError(
          'INVALID_PAYLOAD',
          'empty body: expected an Alertmanager webhook payload (version 4)',
        );
      }
      const result = await receiver.receive(request.body);
      metrics.ingestLatency.observe((performance.now() - started) / 1000);
      if (result.truncated > 0) {
        // Those alerts never reach Rebound: no incident, no runbook. Raise max_alerts, or group more finely.
        request.log.warn(
          { truncatedAlerts: result.truncated },
          "Alertmanager left alerts out of this notification (its receiver's max_alerts); Rebound never sees them",
        );
      }
      return reply.code(200).send(result);
    });
  });
}
