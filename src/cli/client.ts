import { InvalidArgumentError, type Command } from 'commander';
import { readCliEnvironment } from '../config/cli-env.ts';
import { scrubUrls } from '../integrations/urls.ts';

/** Options every command that talks to a running Rebound server accepts. */
export interface ApiOptions {
  readonly url?: string;
  readonly token?: string;
  /** Seconds to wait for each answer (`--timeout`). */
  readonly timeout?: number;
}

export const DEFAULT_URL = 'http://127.0.0.1:8080';
export const DEFAULT_TIMEOUT_SECONDS = 30;

/** A failed API call, with the server's stable error code and the field it named, when it sent them. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The request field the server refused, as it names it (`Entries[5].Source`). */
    readonly path?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** What a successful answer must hold for the command to print it: these top-level keys. */
export interface ExpectedShape {
  readonly expect?: readonly string[];
}

/** Thin REST client used by CLI commands; flags beat REBOUND_URL / REBOUND_TOKEN, which beat defaults. */
export class ApiClient {
  readonly baseUrl: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;

  /** Throws InvalidArgumentError (a usage error) for a URL that is not http(s) or a token no header can carry. */
  constructor(options: ApiOptions = {}) {
    const env = readCliEnvironment();
    // An empty REBOUND_URL / REBOUND_TOKEN is as good as unset (`REBOUND_URL= rebound …`).
    this.baseUrl = resolveBaseUrl(options.url, env.url);
    this.token = checkedToken(options.token, env.token);
    this.timeoutMs = (options.timeout ?? envTimeout(env.timeout) ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
  }

  async request<T>(method: string, path: string, body?: unknown, shape: ExpectedShape = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token) headers['authorization'] = `Bearer ${this.token}`;
    const url = this.baseUrl + path;
    // Before the request: a body that cannot be sent is not an unreachable server.
    const payload = body === undefined ? null : JSON.stringify(body);
    // One deadline for the whole exchange: a server that accepts the connection and never answers (or stops
    // half-way through the body) must not hang the CLI.
    const signal = AbortSignal.timeout(this.timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: payload,
        signal,
      });
      text = await response.text();
    } catch (err) {
      if (signal.aborted) {
        throw new ApiError(
          0,
          'TIMEOUT',
          `no answer from ${url} within ${this.timeoutMs / 1000} s; is it a Rebound server, and is it ` +
            'healthy? Wait longer with --timeout <seconds>.',
        );
      }
      throw new ApiError(
        0,
        'UNREACHABLE',
        `cannot reach Rebound at ${this.baseUrl} (${describeFetchError(err)}); is \`rebound serve\` running? ` +
          'Set --url or REBOUND_URL to point elsewhere.',
      );
    }
    const parsed = parseJsonObject(text);
    const notRebound = () =>
      new ApiError(
        response.status,
        'NOT_REBOUND',
        `not a Rebound API: HTTP ${response.status} from ${url}; check --url or REBOUND_URL`,
      );
    if (!response.ok) {
      // Rebound's errors are JSON {code, message}; anything else came from some other server, except a 5xx:
      // a Rebound shutting down (Fastify answers 503 itself then) or a proxy in front of one.
      if (typeof parsed?.['code'] !== 'string' || typeof parsed['message'] !== 'string') {
        if (response.status >= 500)
          throw new ApiError(
            response.status,
            'UNAVAILABLE',
            `the server at ${url} is unavailable (HTTP ${response.status}); try again shortly`,
          );
        throw notRebound();
      }
      // The server speaks of headers; a CLI user gives the token with a flag or the environment.
      const hint =
        response.status !== 401
          ? ''
          : this.token === undefined
            ? '; give an API token with --token or REBOUND_TOKEN'
            : "; check the token given with --token or REBOUND_TOKEN against the server's server.auth.apiTokens";
      const path = typeof parsed['path'] === 'string' ? parsed['path'] : undefined;
      throw new ApiError(response.status, parsed['code'], `${parsed['message']}${hint}`, path);
    }
    if (parsed === undefined || (shape.expect ?? []).some((key) => !(key in parsed))) throw notRebound();
    return parsed as T;
  }
}

/** The `ApiClient` for a command, from the global `--url`, `--token` and `--timeout` options. */
export function clientFor(cmd: Command): ApiClient {
  const g = cmd.optsWithGlobals<ApiOptions>();
  return new ApiClient({
    ...(g.url !== undefined ? { url: g.url } : {}),
    ...(g.token !== undefined ? { token: g.token } : {}),
    ...(g.timeout !== undefined ? { timeout: g.timeout } : {}),
  });
}

/** Parses `--timeout`: seconds, a positive number (fractions allowed) up to a day. */
export function parseTimeoutSeconds(text: string): number {
  const seconds = Number(text);
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds <= 0 || seconds > 86_400)
    throw new InvalidArgumentError(
      'expected seconds, a number above 0 and at most 86400 (e.g. --timeout 60)',
    );
  return seconds;
}

/** The server to talk to: `--url`, else a non-empty REBOUND_URL, else the default; checked to be http(s). */
export function resolveBaseUrl(flag: string | undefined, env: string | undefined): string {
  const [text, source] =
    flag !== undefined ? [flag, '--url'] : env ? [env, 'REBOUND_URL'] : [DEFAULT_URL, 'the default'];
  let url: URL | undefined;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') {
    throw new InvalidArgumentError(
      `${source} "${text}" is not an http:// or https:// URL (e.g. http://127.0.0.1:8080)`,
    );
  }
  // Not echoed: it holds a secret. The API takes its token as a bearer token, never as URL credentials.
  if (url.username || url.password)
    throw new InvalidArgumentError(
      `${source} carries credentials (user:password@); give the API token with --token or REBOUND_TOKEN instead`,
    );
  return text.replace(/\/+$/, '');
}

function checkedToken(flag: string | undefined, env: string | undefined): string | undefined {
  const [token, source] = flag ? [flag, '--token'] : env ? [env, 'REBOUND_TOKEN'] : [undefined, ''];
  // An HTTP header carries neither control characters (a pasted line break) nor anything beyond Latin-1.
  // eslint-disable-next-line no-control-regex
  if (token !== undefined && /[\u0000-\u001f\u007f]|[^\u0000-\u00ff]/.test(token)) {
    throw new InvalidArgumentError(
      `the API token (${source}) is invalid: it contains a line break, a control character or a ` +
        'non-Latin-1 character; API tokens look like rbd_… (see `rebound tokens create`)',
    );
  }
  return token;
}

/** A JSON object answer, or undefined when the body is not one (HTML, plain text, empty, an array). */
function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function describeFetchError(err: unknown): string {
  // undici says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND…) is in the cause.
  const e = err as Error & { cause?: { code?: string; message?: string } };
  return e.cause?.code ?? scrubUrls(e.cause?.message ?? e.message);
}

/** REBOUND_TIMEOUT, checked as `--timeout` is; empty is unset. */
function envTimeout(text: string | undefined): number | undefined {
  if (!text) return undefined;
  try {
    return parseTimeoutSeconds(text);
  } catch (err) {
    throw new InvalidArgumentError(`REBOUND_TIMEOUT "${text}": ${(err as Error).message}`);
  }
}
