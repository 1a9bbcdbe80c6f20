import { fastifyCookie } from '@fastify/cookie';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ReboundError } from '../errors.ts';
import { authorize, sha256Hex, type ApiAuthenticator, type Principal } from './auth.ts';
import type { Role } from './config.ts';
import type { SessionRevocations } from './port.ts';
import { parseInput } from './query.ts';

export const SESSION_COOKIE = 'rebound_session';
export const CSRF_HEADER = 'x-csrf-token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface SessionOptions {
  /** Key that signs session cookies (HMAC-SHA256). */
  readonly secret: string;
  /** Session lifetime (default 12 h): an on-call shift. */
  readonly ttlSeconds?: number;
  /** Adds `Secure` to the cookie: set when the dashboard is reached over https (server.publicUrl). */
  readonly secureCookies?: boolean;
  /**
   * Where signed-out sessions are remembered until they expire. Without it, signing out only clears the
   * browser's cookie: a copy of it stays valid until it expires.
   */
  readonly revocations?: SessionRevocations;
  readonly now?: () => Date;
}

/**
 * What the signed cookie holds: which token signed in, as an HMAC of its SHA-256 under the session key (the
 * cookie is signed, not encrypted: a copy must not hand out a verifier for the long-lived token), the CSRF
 * token (random, one per session: it also names the session when it is signed out), the expiry.
 */
interface SessionPayload {
  readonly h: string;
  readonly c: string;
  readonly e: number;
}

/** What `GET /v1/session` answers: how the server authenticates and who the caller is. */
export interface SessionView {
  readonly mode: 'open' | 'token';
  readonly principal: Principal | null;
  /** Send back as `X-CSRF-Token` on every mutating request made with the session cookie. */
  readonly csrfToken: string | null;
}

const signInBody = z.object({ token: z.string().min(1).max(4096) }).strict();

/**
 * Browser sessions on top of API tokens: signing in with a token sets a signed, httpOnly, SameSite=Strict
 * cookie that maps to the same principal (and role) as the token; mutating requests made with the cookie
 * must carry the session's CSRF token in `X-CSRF-Token`. Removing the token from the config ends its
 * sessions, because the role is looked up again on every request. Signing out ends the session on the
 * server too: a copy of the cookie is refused from then on, after restarts as well.
 */
export class SessionAuthenticator {
  private readonly signer;
  private readonly ttlSeconds: number;
  private readonly now: () => Date;

  constructor(
    private readonly api: ApiAuthenticator,
    private readonly options: SessionOptions,
  ) {
    this.signer = fastifyCookie.signerFactory(options.secret, 'sha256');
    this.ttlSeconds = options.ttlSeconds ?? 12 * 3600;
    this.now = options.now ?? (() => new Date());
  }

  get mode(): 'open' | 'token' {
    return this.api.mode;
  }

  /** Authenticates an API request by bearer token, else by session cookie (+ CSRF), else open mode. */
  authenticate(request: FastifyRequest, needed: Role): Principal {
    assertSameOrigin(request);
    if (request.headers.authorization !== undefined || this.api.mode === 'open')
      return this.api.authenticate(request.headers.authorization, needed);
    const session = this.read(request);
    if (!session) {
      // A session cookie that is no longer good (signed out, expired, tampered with) is its own answer.
      if (this.hasCookie(request))
        throw new ReboundError(
          'UNAUTHORIZED',
          'the session has ended (signed out, expired or invalid); sign in again',
        );
      return this.api.authenticate(undefined, needed);
    }
    const principal = this.principalOf(session);
    if (!principal) throw new ReboundError('UNAUTHORIZED', 'session token no longer accepted; sign in again');
    if (!SAFE_METHODS.has(request.method)) assertCsrf(request, session);
    return authorize(principal, needed);
  }

  /** Signs in with an API token: returns the Set-Cookie value and the session view. */
  signIn(token: string): { cookie: string; view: SessionView } {
    const hash = sha256Hex(token);
    const principal = this.api.byHash(hash);
    if (!principal) throw new ReboundError('UNAUTHORIZED', 'API token not accepted');
    const payload: SessionPayload = {
      h: this.keyed(hash),
      c: randomBytes(24).toString('base64url'),
      e: Math.floor(this.now().getTime() / 1000) + this.ttlSeconds,
    };
    const value = this.signer.sign(Buffer.from(JSON.stringify(payload)).toString('base64url'));
    return {
      cookie: this.serialize(value, this.ttlSeconds),
      view: { mode: 'token', principal, csrfToken: payload.c },
    };
  }

  /** The session view for a request (no error when signed out). */
  view(request: FastifyRequest): SessionView {
    if (this.api.mode === 'open')
      return { mode: 'open', principal: this.api.authenticate(undefined, 'viewer'), csrfToken: null };
    const session = this.read(request);
    const principal = session ? this.principalOf(session) : undefined;
    return principal
      ? { mode: 'token', principal, csrfToken: session!.c }
      : { mode: 'token', principal: null, csrfToken: null };
  }

  /**
   * Ends the request's session, if it has one, for good; returns a Set-Cookie value that removes the cookie.
   * A live session is ended only with its CSRF token, like every other write made with it: a page that
   * cannot read the token cannot sign its user out.
   */
  async signOut(request: FastifyRequest): Promise<string> {
    const session = this.read(request);
    if (session) {
      assertCsrf(request, session);
      await this.options.revocations?.revoke(session.c, session.e * 1000);
    }
    return this.serialize('', 0);
  }

  private principalOf(session: SessionPayload): Principal | undefined {
    return this.api.byDerivedHash(session.h, (hash) => this.keyed(hash));
  }

  private keyed(tokenHash: string): string {
    return createHmac('sha256', this.options.secret).update(`session:${tokenHash}`).digest('base64url');
  }

  private serialize(value: string, maxAge: number): string {
    return fastifyCookie.serialize(SESSION_COOKIE, value, {
      httpOnly: true,
      sameSite: 'strict',
      path: '/',
      maxAge,
      secure: this.options.secureCookies ?? false,
    });
  }

  private hasCookie(request: FastifyRequest): boolean {
    const header = request.headers.cookie;
    return header !== undefined && fastifyCookie.parse(header)[SESSION_COOKIE] !== undefined;
  }

  private read(request: FastifyRequest): SessionPayload | undefined {
    const header = request.headers.cookie;
    if (!header) return undefined;
    const raw = fastifyCookie.parse(header)[SESSION_COOKIE];
    if (!raw) return undefined;
    const unsigned = this.signer.unsign(raw);
    if (!unsigned.valid || unsigned.value === null) return undefined;
    try {
      const payload = JSON.parse(Buffer.from(unsigned.value, 'base64url').toString('utf8')) as SessionPayload;
      if (typeof payload.h !== 'string' || typeof payload.c !== 'string' || typeof payload.e !== 'number')
        return undefined;
      if (payload.e * 1000 <= this.now().getTime()) return undefined;
      return this.options.revocations?.isRevoked(payload.c) ? undefined : payload;
    } catch {
      return undefined;
    }
  }
}

/**
 * Browsers send Origin on cross-origin writes: refuse those (a page elsewhere must not drive this API,
 * even on an open loopback server). Requests without Origin (curl, Alertmanager, the CLI) are unaffected.
 */
function assertSameOrigin(request: FastifyRequest): void {
  if (SAFE_METHODS.has(request.method)) return;
  const origin = request.headers.origin;
  if (origin === undefined) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    host = '';
  }
  if (host !== request.headers.host)
    throw new ReboundError('FORBIDDEN', `cross-origin request from ${origin} refused`);
}

/** A write made with a session cookie must carry the session's CSRF token. */
function assertCsrf(request: FastifyRequest, session: SessionPayload): void {
  const sent = request.headers[CSRF_HEADER];
  if (typeof sent !== 'string' || !equal(sent, session.c))
    throw new ReboundError('FORBIDDEN', `missing or wrong ${CSRF_HEADER} header for this session`);
}

function equal(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** `GET|POST|DELETE /v1/session`: who am I, sign in with an API token, sign out. */
export function registerSessionRoutes(app: FastifyInstance, sessions: SessionAuthenticator): void {
  // The plugin loads the cookie codec that parse/serialize use; its own hook is off because the API's auth
  // hook (server.ts) runs first and parses the one cookie it needs itself.
  void app.register(fastifyCookie, { hook: false });
  app.get('/v1/session', async (request, reply) => noStore(reply).send(sessions.view(request)));

  // Anyone may call it, so its body is parsed before any credential is checked: a token fits in 4 KiB.
  app.post('/v1/session', { bodyLimit: 4096 }, async (request, reply) => {
    assertSameOrigin(request);
    const body = parseInput(signInBody, request.body, 'body');
    if (sessions.mode === 'open') return noStore(reply).send(sessions.view(request));
    const { cookie, view } = sessions.signIn(body.token);
    return noStore(reply).header('set-cookie', cookie).send(view);
  });

  app.delete('/v1/session', async (request, reply) => {
    assertSameOrigin(request);
    const cookie = await sessions.signOut(request);
    return noStore(reply).header('set-cookie', cookie).code(204).send();
  });
}

function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store');
}
