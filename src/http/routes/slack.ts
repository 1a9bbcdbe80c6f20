import type { FastifyInstance } from 'fastify';
import { ReboundError } from '../../errors.ts';
import type { SlackInteractionResponse } from '../../integrations/slack/index.ts';
import { JSON_TYPES } from '../json-body.ts';

/** What Slack posts interactions as. */
export const FORM_TYPE = 'application/x-www-form-urlencoded';

export type SlackInteractionRoute = (
  rawBody: Buffer,
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
) => SlackInteractionResponse;

/**
 * `POST /v1/integrations/slack/interactions`, the Slack app's interactivity Request URL. It carries no API
 * role: Slack cannot send our bearer token, so the request signature (checked over the raw form body)
 * authenticates it instead. Without a `slack` config section it answers 404 saying what to configure.
 */
export function registerSlackRoutes(app: FastifyInstance, deps: { handle?: SlackInteractionRoute }): void {
  // In a scope of its own: only this route takes form posts; every other route answers them 415.
  void app.register(async (scope) => slackInteractions(scope, deps));
}

function slackInteractions(app: FastifyInstance, deps: { handle?: SlackInteractionRoute }): void {
  // Slack posts forms only. Without the JSON parser here, an unsigned JSON body is refused (415) unread,
  // instead of being parsed before the handler checks the signature.
  app.removeContentTypeParser(JSON_TYPES);
  // Verified over the raw bytes, then parsed by the handler.
  app.addContentTypeParser(FORM_TYPE, { parseAs: 'buffer' }, (req, body, done) => {
    req.rawBody = body as Buffer;
    done(null, (body as Buffer).toString('utf8'));
  });
  app.post('/v1/integrations/slack/interactions', async (request, reply) => {
    if (!deps.handle)
      throw new ReboundError(
        'NOT_FOUND',
        'Slack interactions are not configured: set slack.signingSecret (and slack.allowedUsers) in rebound.yaml',
      );
    if (!request.rawBody)
      throw new ReboundError(
        'UNSUPPORTED_MEDIA_TYPE',
        `Slack interactions arrive as ${FORM_TYPE} with a payload field`,
      );
    // Answers at once (Slack wants 200 within 3 s); the decision and the message update finish behind it.
    const answer = deps.handle(request.rawBody, request.headers);
    answer.done.catch((err: unknown) => request.log.error({ err }, 'Slack interaction failed'));
    return reply.code(answer.status).send(answer.body);
  });
}
