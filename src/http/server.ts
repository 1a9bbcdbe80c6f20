import { randomBytes } from 'node:crypto';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RouteOptions,
} from 'fastify';
import { ReboundError, isReboundError } from '../errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { CoreMetrics } from '../telemetry/metrics.ts';
import { ApiAuthenticator, isLoopbackHost, type Principal } from './auth.ts';
import { JSON_TYPES, jsonBodyParser } from './json-body.ts';
import { FORM_TYPE } from './routes/slack.ts';
import { SessionAuthenticator } from './session.ts';
import type { Role, ServerConfig } from './config.ts';
import type { SessionRevocations } from './port.ts';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: Buffer;
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** Minimum role for an API route; routes without it (webhooks, health) authenticate themselves. */
    role?: Role;
    /** The route needs no authentication while this returns true (read at each request: reloads apply). */
    openWhen?: () => boolean;
    /** The body content types the route's scope has parsers for, set when it is added: a 415 names them. */
    accepts?: readonly string[];
  }
}

export interface HttpServerDeps {
  readonly config: ServerConfig;
  readonly logger: Logger;
  readonly metrics: CoreMetrics;
  readonly loopbackOnly: boolean;
  /** Signs dashboard session cookies; without it a random key is used (sessions end with the process). */
  readonly sessionSecret?: string;
  /** Signed-out sessions (see SessionOptions.revocations). */
  readonly sessionRevocations?: SessionRevocations;
  /** The clock sessions expire by (the app's, so that pruning signed-out sessions agrees with it). */
  readonly now?: () => Date;
  /** Whether Alertmanager webhooks are taken without a token or signature (read at each request). */
  readonly webhooksOpen?: () => boolean;
}

const REGISTERED = new WeakMap<FastifyInstance, readonly RouteOptions[]>();

/** Every body content type a scope of this server parses; a route's `accepts` are those its scope has. */
const BODY_TYPES: readonly string[] = [...JSON_TYPES, FORM_TYPE];

function assertLoopbackHost(header: string | undefined): void {
  // HTTP/1.0 may leave Host out; browsers, which rebinding needs, always send it.
  if (header === undefined) return;
  const host = header.startsWith('[') ? header.slice(0, header.indexOf(']') + 1) : header.split(':')[0]!;
  // A fully qualified `localhost.`, and `*.localhost`, which browsers resolve to loopback themselves.
  const name = host.toLowerCase().replace(/\.$/, '');
  if (!isLoopbackHost(name) && !name.endsWith('.localhost'))
    throw new ReboundError(
      'FORBIDDEN',
      `Host ${JSON.stringify(header)} refused: this server answers without a token, so only requests addressed ` +
        'to localhost, 127.0.0.1 or [::1] (otherwise a web page could reach it by DNS rebinding); configure ' +
        'server.auth to serve other host names',
    );
}

/**
 * Every route registered on a server `createHttpServer` built, as Fastify was given it: Fastify keeps no
 * public list (the OpenAPI document is checked against this one).
 */
export function registeredRoutes(app: FastifyInstance): readonly RouteOptions[] {
  return REGISTERED.get(app) ?? [];
}

/** Builds the fastify instance with body parsing, API auth and the error mapping; routes are added after. */
export function createHttpServer(deps: HttpServerDeps): {
  app: FastifyInstance;
  apiAuth: ApiAuthenticator;
  sessions: SessionAuthenticator;
} {
  const app = Fastify({
    // Per-request lines at 5,000 requests/s drown everything else; failures are logged by the error handler.
    loggerInstance: deps.logger.child({ component: 'http' }, { level: 'warn' }) as FastifyBaseLogger,
    bodyLimit: deps.config.bodyLimitBytes,
    // An execution id is `<machine>:<name>` (up to 80 + 80 characters, more once percent-encoded): the
    // default 100 would make long ones unreachable once started.
    routerOptions: { maxParamLength: 1024 },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { coerceTypes: false } },
    // A URL that does not decode, say: answered in the API's error shape, not Fastify's.
    frameworkErrors: (error, _request, reply) =>
      void sendError(reply, new ReboundError('BAD_REQUEST', `bad request: ${error.message}`)),
    // Requests Node's parser refuses before Fastify sees them (a malformed Content-Length, headers too
    // large, a request too slow to arrive): the same error shape, then the connection is closed.
    clientErrorHandler: (error, socket) => {
      const code = (error as { code?: string }).code;
      // Gone already, or something was written on this connection (a response under way): as Node's own
      // handler does, write nothing then, which could corrupt it.
      if (code === 'ECONNRESET' || !socket.writable || socket.bytesWritten > 0)
        return void socket.destroy(error);
      const [status, reason, message] =
        code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'Request Header Fields Too Large', 'request headers are too large']
          : code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? [408, 'Request Timeout', 'the request did not arrive in time']
            : [400, 'Bad Request', 'malformed HTTP request'];
      const body = JSON.stringify({ code: status === 408 ? 'REQUEST_TIMEOUT' : 'BAD_REQUEST', message });
      socket.write(
        `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      socket.destroy(error);
    },
  });
  // Every route, so a known path asked with another method is a 405 naming the right ones.
  const routes: RouteOptions[] = [];
  REGISTERED.set(app, routes);
  app.addHook('onRoute', function (route) {
    routes.push(route);
    // `this` is the scope the route is added to (Fastify lists no parsers, but answers for one type); its
    // parsers are registered before its routes.
    route.config = { ...route.config, accepts: BODY_TYPES.filter((type) => this.hasContentTypeParser(type)) };
  });
  const apiAuth = new ApiAuthenticator(deps.config.auth, deps.loopbackOnly);
  const sessions = new SessionAuthenticator(apiAuth, {
    secret: deps.sessionSecret ?? randomBytes(32).toString('hex'),
    secureCookies: deps.config.publicUrl?.startsWith('https:') ?? false,
    ...(deps.sessionRevocations ? { revocations: deps.sessionRevocations } : {}),
    ...(deps.now ? { now: deps.now } : {}),
  });

  app.removeAllContentTypeParsers();
  // Keep the raw bytes: webhook signatures are computed over them.
  app.addContentTypeParser(JSON_TYPES, { parseAs: 'buffer' }, jsonBodyParser());

  app.addHook('onRequest', async (request) => {
    // A server that answers without a token trusts whoever can reach it, which on loopback is this machine:
    // a page elsewhere must not reach it through DNS rebinding (its name resolving to 127.0.0.1), so a
    // request must name a loopback host.
    if (deps.loopbackOnly && (apiAuth.mode === 'open' || deps.webhooksOpen?.()))
      assertLoopbackHost(request.headers.host);
    // Node does not decode compressed bodies, and parsing one as JSON would be wrong: refuse it before reading.
    const encoding = request.headers['content-encoding']?.trim().toLowerCase();
    if (encoding && encoding !== 'identity')
      throw new ReboundError(
        'UNSUPPORTED_MEDIA_TYPE',
        `Content-Encoding ${encoding} is not supported; send the body uncompressed`,
      );
    // `/v1/incidents/` reaches `/v1/incidents/:id` with an empty id: no such resource, and no such route.
    const params = request.params as Record<string, string> | undefined;
    const api = request.routeOptions.url?.startsWith('/v1/') === true; // dashboard pages fall back in the page
    if (api && params && Object.values(params).some((value) => value === ''))
      throw new ReboundError(
        'NOT_FOUND',
        `no route ${request.method} ${request.url.split('?')[0]!}: a path segment is empty; see /v1/openapi.json`,
      );
    const { role, openWhen } = request.routeOptions.config;
    // A bearer token, else a dashboard session cookie (with its CSRF token on writes), else open mode.
    if (role && !openWhen?.()) request.principal = sessions.authenticate(request, role);
    // The API's writes take their input in the body: a query parameter would be ignored, and the body's
    // defaults (often "everything") would apply instead of what the caller meant.
    if (role && request.method !== 'GET' && request.method !== 'HEAD') {
      const key = Object.keys((request.query as Record<string, unknown> | undefined) ?? {})[0];
      if (key !== undefined)
        throw new ReboundError(
          'BAD_REQUEST',
          `query.${key}: ${request.method} ${request.routeOptions.url} takes no query parameters; send them in the JSON body`,
          { path: key },
        );
    }
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const allowed = [...new Set(routes.filter((r) => serves(r.url, path)).flatMap((r) => r.method))].sort();
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return void sendError(
        reply,
        new ReboundError(
          'METHOD_NOT_ALLOWED',
          `${path} answers ${allowed.join(', ')}, not ${request.method}; see /v1/openapi.json`,
        ),
      );
    }
    void sendError(
      reply,
      new ReboundError('NOT_FOUND', `no route ${request.method} ${path}; see /v1/openapi.json`),
    );
  });
  app.setErrorHandler((error, request, reply) => {
    const routeLimit = request.routeOptions.bodyLimit;
    const mapped =
      (error as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE' &&
      routeLimit !== undefined &&
      routeLimit !== deps.config.bodyLimitBytes
        ? new ReboundError(
            'PAYLOAD_TOO_LARGE',
            `request body is larger than this route's ${routeLimit} bytes`,
          )
        : (error as { code?: string }).code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
          ? unsupportedMediaType(request)
          : mapError(error);
    // Answered as bad input (a body nested too deeply), but a recursion bug would look the same: say so.
    if (isStackOverflow(error))
      request.log.warn({ err: error, url: request.url }, 'stack overflow on a request');
    if (mapped.status >= 500 && mapped.code !== 'OVERLOADED') {
      request.log.error({ err: error, url: request.url }, 'request failed');
    }
    return sendError(reply, mapped);
  });
  return { app, apiAuth, sessions };
}

function mapError(error: unknown): ReboundError {
  if (isReboundError(error)) return error;
  const e = error as { code?: string; statusCode?: number; message?: string; validation?: unknown };
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ReboundError('PAYLOAD_TOO_LARGE', 'request body is larger than server.bodyLimitBytes');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new ReboundError('BAD_REQUEST', e.message ?? 'bad request body');
  }
  if (e.validation) return new ReboundError('BAD_REQUEST', e.message ?? 'invalid request');
  // JSON.parse takes any depth, but serialising it again (to store it) overflows the stack: the body is at
  // fault, not the server, and sending it again would fail the same way.
  if (isStackOverflow(error)) {
    return new ReboundError('INVALID_PAYLOAD', 'the body nests too deeply to be processed', { path: '$' });
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new ReboundError('BAD_REQUEST', e.message ?? 'bad request');
  }
  return new ReboundError('INTERNAL', 'internal error; see the server log', { cause: error });
}

/** A body of a type the route has no parser for: names the types it takes, which are not always JSON. */
function unsupportedMediaType(request: FastifyRequest): ReboundError {
  const accepts = request.routeOptions.config.accepts ?? JSON_TYPES;
  const route = `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]!}`;
  const takes =
    accepts.length === 0
      ? `${route} takes no request body`
      : `${route} takes ${accepts.join(' or ')}; send Content-Type: ${accepts[0]!}`;
  const sent = request.headers['content-type'];
  return new ReboundError(
    'UNSUPPORTED_MEDIA_TYPE',
    sent === undefined
      ? `the body has no Content-Type: ${takes}`
      : `Content-Type ${JSON.stringify(sent.length > 100 ? `${sent.slice(0, 100)}…` : sent)} is not accepted: ${takes}`,
  );
}

/** V8's "Maximum call stack size exceeded". Fastify's own RangeErrors (a body too large) are not one. */
function isStackOverflow(error: unknown): error is RangeError {
  return error instanceof RangeError && /call stack/i.test(error.message);
}

export function sendError(reply: FastifyReply, error: ReboundError): FastifyReply {
  if (error.retryAfterMs !== undefined) reply.header('retry-after', Math.ceil(error.retryAfterMs / 1000));
  // RFC 9110 §11.6.1: a 401 names the scheme that would succeed.
  if (error.status === 401) reply.header('www-authenticate', 'Bearer realm="rebound"');
  return reply.code(error.status).type('application/json').send(error.toJSON());
}

/** The actor recorded in timelines for an API call: the token's name, or `local`. */
export function actorOf(request: FastifyRequest): string {
  return `user:${request.principal?.name ?? 'anonymous'}`;
}

/** Whether a route's URL serves `path`: `:param` stands for one non-empty segment, `*` for the rest. */
function serves(url: string, path: string): boolean {
  const want = url.split('/');
  const have = path.split('/');
  for (const [i, part] of want.entries()) {
    if (i >= have.length) return false;
    if (part === '*') return true;
    if (part.startsWith(':') ? have[i] === '' : part !== have[i]) return false;
  }
  return want.length === have.length;
}
