/** The REST client of the dashboard: same origin, session cookie, CSRF header on writes. */

export type Role = 'viewer' | 'operator' | 'admin';

export interface Principal {
  readonly name: string;
  readonly role: Role;
}

export interface Session {
  readonly mode: 'open' | 'token';
  readonly principal: Principal | null;
  readonly csrfToken: string | null;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
let onUnauthorized: () => void = () => undefined;

/** Remembers the session's CSRF token (sent on every write) and what to do when the session ends. */
export function configureApi(session: Session, unauthorized: () => void): void {
  csrfToken = session.csrfToken;
  onUnauthorized = unauthorized;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? null : JSON.stringify(body),
  });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = { message: text };
  }
  if (!response.ok) {
    const e = (parsed ?? {}) as { code?: string; message?: string };
    if (response.status === 401 && !path.startsWith('/v1/session')) onUnauthorized();
    throw new ApiError(
      response.status,
      e.code ?? `HTTP_${response.status}`,
      e.message ?? response.statusText,
    );
  }
  return parsed as T;
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** True when the signed-in principal may do what needs `role` (the API enforces it regardless). */
export function allowed(session: Session | null, role: Role): boolean {
  return !!session?.principal && RANK[session.principal.role] >= RANK[role];
}

export function qs(params: Record<string, string | number | undefined | null | false>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    if (v !== undefined && v !== null && v !== false && v !== '') search.set(k, String(v));
  const s = search.toString();
  return s ? `?${s}` : '';
}
