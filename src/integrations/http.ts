import { IntegrationError, type IntegrationService } from './errors.ts';
import { authorizeFromUserinfo, scrubUrls, withoutUserinfo } from './urls.ts';

/** The subset of `fetch` integrations use; injectable so a composition root can add a proxy agent. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface HttpCall {
  readonly service: IntegrationService;
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  readonly fetch?: FetchLike;
  /** What to call the endpoint in messages; never the URL itself, which may carry a secret. */
  readonly label: string;
  /** The most of the body read (default MAX_RESPONSE_BYTES); a longer one fails as `bad_response`. */
  readonly maxResponseBytes?: number;
}

/**
 * No integration answer Rebound reads is near this (a Prometheus vector for a verification, an Alertmanager
 * alert list): a larger one is a query gone wrong, and is refused before it takes the process's memory.
 */
export const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/**
 * One HTTP exchange with a deadline: the whole answer (status and body) must arrive within `timeoutMs`.
 * Redirects are not followed, so a request never leaves the configured URL. Credentials in the URL
 * (`https://user:pass@host`) are sent as Basic authorization, as `node:http` sends them.
 */
export async function httpCall(call: HttpCall): Promise<HttpAnswer> {
  const timeout = AbortSignal.timeout(call.timeoutMs);
  const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
  const doFetch = call.fetch ?? fetch;
  try {
    const { url, authorization } = withoutUserinfo(call.url);
    const response = await doFetch(url, {
      method: call.method,
      headers: authorizeFromUserinfo(authorization, call.headers),
      body: call.body,
      redirect: 'manual',
      signal,
    });
    const limit = call.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    const body = await readBodyUpTo(response, limit);
    if (body.over)
      throw new IntegrationError(
        `${call.label}: the answer is larger than ${limit} bytes; narrow the query (a verification needs a few series)`,
        { service: call.service, kind: 'bad_response', retryable: false },
      );
    return { status: response.status, headers: response.headers, text: body.text };
  } catch (err) {
    if (err instanceof IntegrationError) throw err;
    throw mapFetchFailure(call, timeout, err);
  }
}

/**
 * The first `limit` bytes of the body as text, and whether it had more: reading stops (and the rest is
 * cancelled) once past the limit, so a huge answer never sits in memory.
 */
export async function readBodyUpTo(
  response: Response,
  limit: number,
): Promise<{ text: string; over: boolean }> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  let over = false;
  if (response.body) {
    // Leaving the loop early cancels the stream: the rest is never read.
    for await (const chunk of response.body) {
      chunks.push(chunk);
      size += chunk.byteLength;
      if (size > limit) {
        over = true;
        break;
      }
    }
  }
  return { text: Buffer.concat(chunks).subarray(0, limit).toString('utf8'), over };
}

function mapFetchFailure(call: HttpCall, timeout: AbortSignal, err: unknown): IntegrationError {
  if (call.signal?.aborted) {
    return new IntegrationError(`${call.label}: request cancelled by the caller`, {
      service: call.service,
      kind: 'aborted',
      retryable: false,
      cause: err,
    });
  }
  if (timeout.aborted) {
    return new IntegrationError(
      `${call.label}: no answer within ${call.timeoutMs} ms; check the service is up or raise its timeoutMs`,
      { service: call.service, kind: 'timeout', retryable: true, cause: err },
    );
  }
  const reason = networkReason(err);
  return new IntegrationError(
    `${call.label}: cannot connect (${reason}); check the configured URL and network`,
    {
      service: call.service,
      kind: 'network',
      retryable: true,
      cause: err,
    },
  );
}

// undici wraps the socket error in `cause`; its code (ECONNREFUSED, ENOTFOUND…) is what an operator needs.
// Otherwise the message, without the URLs it may quote (with their credentials).
function networkReason(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause as { code?: unknown } | undefined;
    if (cause && typeof cause.code === 'string') return cause.code;
    return scrubUrls(err.message);
  }
  return scrubUrls(String(err));
}

/** Parses JSON, or returns undefined for an empty or malformed body. */
export function tryParseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Joins a configured base URL and a fixed API path, keeping any path prefix (e.g. `/prometheus`). */
export function joinUrl(baseUrl: string, path: string, query?: URLSearchParams): string {
  const url = new URL(baseUrl.replace(/\/+$/, '') + path);
  if (query) url.search = query.toString();
  return url.toString();
}

/** A short, secret-free excerpt of a body for error messages. */
export function excerpt(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max) + '…' : flat;
}
