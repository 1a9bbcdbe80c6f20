import { readCliEnvironment } from '../config/cli-env.ts';

/** Options every command that talks to a running Rebound server accepts. */
export interface ApiOptions {
  readonly url?: string;
  readonly token?: string;
}

export const DEFAULT_URL = 'http://127.0.0.1:8080';

/** A failed API call, with the server's stable error code when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Thin REST client used by CLI commands; flags beat REBOUND_URL / REBOUND_TOKEN, which beat defaults. */
export class ApiClient {
  readonly baseUrl: string;
  private readonly token: string | undefined;

  constructor(options: ApiOptions = {}) {
    const env = readCliEnvironment();
    this.baseUrl = (options.url ?? env.url ?? DEFAULT_URL).replace(/\/+$/, '');
    this.token = options.token ?? env.token;
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token) headers['authorization'] = `Bearer ${this.token}`;
    let response: Response;
    try {
      response = await fetch(this.baseUrl + path, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(
        0,
        'UNREACHABLE',
        `cannot reach Rebound at ${this.baseUrl} (${(err as Error).message}); is \`rebound serve\` running? ` +
          'Set --url or REBOUND_URL to point elsewhere.',
      );
    }
    const text = await response.text();
    const parsed: unknown = text ? safeJson(text) : undefined;
    if (!response.ok) {
      const e = (parsed ?? {}) as { code?: string; message?: string };
      throw new ApiError(response.status, e.code ?? 'HTTP_' + response.status, e.message ?? text);
    }
    return parsed as T;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}
