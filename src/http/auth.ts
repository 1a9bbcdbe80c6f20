import { createHash } from 'node:crypto';
import { ReboundError } from '../errors.ts';
import {
  SIGNATURE_HEADER,
  checkWebhookSignature,
  signatureHeadersProblem,
  signaturesEqual as constantTimeEqual,
  TIMESTAMP_HEADER,
} from '../integrations/webhook/signature.ts';
import type { Role, ServerConfig } from './config.ts';

const ROLE_RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export interface Principal {
  readonly name: string;
  readonly role: Role;
}

/** The principal used when the server is loopback-only and no API tokens are configured. */
export const LOCAL_PRINCIPAL: Principal = { name: 'local', role: 'admin' };

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

/**
 * Webhook authentication: a bearer token from the configured list and, when HMAC is configured, a valid
 * body signature whose timestamp is inside the replay window. Throws UNAUTHORIZED saying what is missing.
 */
export class WebhookAuthenticator {
  private tokenHashes: string[];

  constructor(
    private auth: ServerConfig['auth'],
    private readonly now: () => Date = () => new Date(),
  ) {
    this.tokenHashes = auth.webhookTokens.map(sha256Hex);
  }

  /** Takes the tokens and HMAC settings of a reloaded configuration; the next request is checked with them. */
  reconfigure(auth: ServerConfig['auth']): void {
    this.auth = auth;
    this.tokenHashes = auth.webhookTokens.map(sha256Hex);
  }

  get enabled(): boolean {
    return this.tokenHashes.length > 0 || this.auth.hmac !== undefined;
  }

  /** Checks the bearer token; cheap, so it runs before the body is read. */
  verifyToken(headers: Record<string, string | string[] | undefined>): void {
    if (this.tokenHashes.length > 0) {
      const token = bearerToken(single(headers['authorization']));
      if (!token) throw unauthorized('missing bearer token: set http_config.authorization in Alertmanager');
      const hash = sha256Hex(token);
      if (!this.tokenHashes.some((known) => constantTimeEqual(known, hash)))
        throw unauthorized('bearer token not accepted');
    }
  }

  /**
   * Checks that the signature headers are there and well formed, when HMAC signing is configured; cheap, so
   * it runs before the body is read, and a request without them is refused as unauthenticated whatever its
   * body (verifySignature then checks the signature over the raw bytes).
   */
  verifySignatureHeaders(headers: Record<string, string | string[] | undefined>): void {
    if (!this.auth.hmac) return;
    const problem = signatureHeadersProblem(
      single(headers[TIMESTAMP_HEADER]),
      single(headers[SIGNATURE_HEADER]),
    );
    if (problem?.kind === 'missing')
      throw unauthorized(
        `missing ${problem.headers.join(' and ')} header${problem.headers.length > 1 ? 's' : ''} ` +
          `(HMAC signing is required: send ${TIMESTAMP_HEADER}, the Unix time in seconds, and ` +
          `${SIGNATURE_HEADER}, v1= and the hex HMAC-SHA256 of "<timestamp>.<raw body>" under server.auth.hmac.secret)`,
      );
    if (problem?.header === TIMESTAMP_HEADER)
      throw unauthorized(`${TIMESTAMP_HEADER} must be the Unix time in whole seconds`);
    if (problem?.header === SIGNATURE_HEADER)
      throw unauthorized(
        `${SIGNATURE_HEADER} must be v1= followed by the HMAC-SHA256 in 64 lowercase hex digits`,
      );
  }

  /** Checks the body signature and its timestamp window, when HMAC signing is configured. */
  verifySignature(headers: Record<string, string | string[] | undefined>, rawBody: Buffer): void {
    const hmac = this.auth.hmac;
    if (hmac) {
      this.verifySignatureHeaders(headers);
      const verdict = checkWebhookSignature({
        secret: hmac.secret,
        timestamp: single(headers[TIMESTAMP_HEADER]),
        signature: single(headers[SIGNATURE_HEADER]),
        body: rawBody,
        nowSeconds: this.now().getTime() / 1000,
        toleranceSeconds: hmac.toleranceSeconds,
      });
      if (verdict === 'stale')
        throw unauthorized(`${TIMESTAMP_HEADER} is outside the ${hmac.toleranceSeconds}s replay window`);
      if (verdict !== 'ok') throw unauthorized('body signature does not match');
    }
  }
}

/** API authentication by bearer token → role; open (as admin) only when the server is loopback-only. */
export class ApiAuthenticator {
  private tokens: { hash: string; principal: Principal }[] = [];

  constructor(
    auth: ServerConfig['auth'],
    private readonly loopbackOnly: boolean,
  ) {
    this.reconfigure(auth);
  }

  /**
   * Takes the API tokens of a reloaded configuration: a token removed from it is refused from the next
   * request on, and so is every session signed in with it (sessions look their token up on each request).
   */
  reconfigure(auth: ServerConfig['auth']): void {
    this.tokens = auth.apiTokens.map((t) => ({
      hash: t.sha256 ?? sha256Hex(t.token!),
      principal: { name: t.name, role: t.role },
    }));
  }

  /** `open` when no token is needed (loopback, no tokens configured), `token` otherwise. */
  get mode(): 'open' | 'token' {
    return this.tokens.length === 0 && this.loopbackOnly ? 'open' : 'token';
  }

  authenticate(header: string | undefined, needed: Role): Principal {
    if (this.mode === 'open') return LOCAL_PRINCIPAL;
    const token = bearerToken(header);
    if (!token) throw unauthorized('missing API token: send Authorization: Bearer <token>');
    const principal = this.byHash(sha256Hex(token));
    if (!principal) throw unauthorized('API token not accepted');
    return authorize(principal, needed);
  }

  /** The principal of the configured token with this SHA-256. */
  byHash(hash: string): Principal | undefined {
    return this.byDerivedHash(hash, (h) => h);
  }

  /**
   * The principal of the configured token whose SHA-256, put through `derive`, is `derived`: sessions keep
   * a keyed digest of the token's hash, never the token or its plain hash.
   */
  byDerivedHash(derived: string, derive: (hash: string) => string): Principal | undefined {
    return this.tokens.find((t) => constantTimeEqual(derive(t.hash), derived))?.principal;
  }
}

/** Returns the principal if its role is at least `needed`; throws FORBIDDEN naming both roles otherwise. */
export function authorize(principal: Principal, needed: Role): Principal {
  if (ROLE_RANK[principal.role] < ROLE_RANK[needed]) {
    throw new ReboundError('FORBIDDEN', `role ${principal.role} may not do this; it needs ${needed}`);
  }
  return principal;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function unauthorized(message: string): ReboundError {
  return new ReboundError('UNAUTHORIZED', message);
}

/** True when the host only accepts connections from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

export function splitListen(listen: string): { host: string; port: number } {
  const idx = listen.lastIndexOf(':');
  return { host: listen.slice(0, idx).replace(/^\[|\]$/g, ''), port: Number(listen.slice(idx + 1)) };
}

/**
 * Refuses to start a server that listens beyond loopback without webhook and API authentication, or with a
 * placeholder secret: the tokens, the webhook HMAC secret and `others` (say the Slack signing secret).
 */
export function assertExposureIsAuthenticated(
  server: ServerConfig,
  others: readonly { readonly path: string; readonly value: string | undefined }[] = [],
): void {
  const { host } = splitListen(server.listen);
  if (isLoopbackHost(host)) return;
  const missing: string[] = [];
  if (server.auth.webhookTokens.length === 0 && !server.auth.hmac)
    missing.push('server.auth.webhookTokens (or server.auth.hmac)');
  if (server.auth.apiTokens.length === 0) missing.push('server.auth.apiTokens');
  if (missing.length > 0) {
    throw new ReboundError(
      'INVALID_CONFIG',
      `refusing to listen on ${server.listen} (beyond loopback) without authentication; configure ${missing.join(' and ')}, ` +
        'or listen on 127.0.0.1',
    );
  }
  // The example configuration's fallbacks (`${ALERTMANAGER_TOKEN:-change-me-…}`) are public: with the
  // variable unset, anyone who read the example could post alerts or drive remediation.
  const secrets = [
    ...server.auth.webhookTokens.map((value, i) => ({ path: `server.auth.webhookTokens[${i}]`, value })),
    ...server.auth.apiTokens.map((t, i) => ({ path: `server.auth.apiTokens[${i}].token`, value: t.token })),
    { path: 'server.auth.hmac.secret', value: server.auth.hmac?.secret },
    ...others,
  ];
  const placeholders = secrets
    .filter((s) => s.value !== undefined && isPlaceholder(s.value))
    .map((s) => s.path);
  if (placeholders.length > 0) {
    throw new ReboundError(
      'INVALID_CONFIG',
      `refusing to listen on ${server.listen} (beyond loopback) with placeholder secrets at ${placeholders.join(', ')}; ` +
        'set the environment variables they come from (e.g. ALERTMANAGER_TOKEN, REBOUND_OPERATOR_TOKEN, ' +
        'SLACK_SIGNING_SECRET) to ' +
        'secrets of your own (`rebound tokens create` makes one), or listen on 127.0.0.1',
    );
  }
}

/** A secret copied from an example rather than chosen: `change-me…`, `replace-with…`. */
function isPlaceholder(secret: string): boolean {
  return /^(change-?me|replace-?with)/i.test(secret);
}
