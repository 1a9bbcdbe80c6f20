import { ApiException } from '@kubernetes/client-node';

/**
 * A Kubernetes action failure that says whether retrying can help. Conflicts (409), throttling and
 * PodDisruptionBudget refusals (429), server errors (5xx), unreachable servers and requests left unanswered
 * (`Timeout`, status 0) are retryable; forbidden (403), not found (404), invalid (422) and the action's own
 * refusals (paused, no history) are not.
 */
export class K8sActionError extends Error {
  override readonly name = 'K8sActionError';
  /** HTTP status from the API server; 0 when the server was not reached or the action refused by itself. */
  readonly status: number;
  /** The `reason` of the API's Status object (`Conflict`, `NotFound`, …) or the action's own reason. */
  readonly reason: string;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  /** The API server's Status object, when it sent one. */
  readonly apiStatus: unknown;

  constructor(
    message: string,
    options: {
      status: number;
      reason: string;
      retryable: boolean;
      retryAfterMs?: number;
      apiStatus?: unknown;
      cause?: unknown;
    },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
    this.reason = options.reason;
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
    this.apiStatus = options.apiStatus;
  }

  /** A stable name for runbook `Catch`/`Retry` (`ErrorEquals: ["K8s.Conflict"]`). */
  get code(): string {
    return `K8s.${this.reason}`;
  }

  /** The ASL error name a runbook sees (`toStatesError`): the code, e.g. `K8s.Conflict`. */
  get error(): string {
    return this.code;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      status: this.status,
      reason: this.reason,
      retryable: this.retryable,
    };
  }
}

/** A request the API server did not answer within kubernetes.requestTimeoutMs. */
export class ApiTimeout extends Error {
  override readonly name = 'ApiTimeout';
  constructor(
    readonly timeoutMs: number,
    cause: unknown,
  ) {
    super(`no answer within ${timeoutMs} ms`, { cause });
  }
}

/**
 * Whether a failed write may have been applied anyway: its answer was lost (a timeout, a dropped connection)
 * or the server failed after accepting it (5xx, e.g. the apiserver's 504 when etcd is slow).
 */
export function mayHaveLanded(err: unknown): boolean {
  return (
    err instanceof K8sActionError &&
    err.retryable &&
    (err.status === 0 || err.status >= 500) &&
    !neverSent(err)
  );
}

/** Socket errors raised before a connection existed: a request that failed with one was never sent. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Whether a request failed before it could reach the server: no connection was made (node-fetch puts the
 * socket error's code on its own error; a wrapper may carry it in `cause`).
 */
export function neverSent(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++)
    if (NOT_CONNECTED.has((e as { code?: unknown }).code as string)) return true;
  return false;
}

/** Refusal by the action itself (no API error): never retryable. */
export function refused(reason: string, message: string): K8sActionError {
  return new K8sActionError(message, { status: 0, reason, retryable: false });
}

const REASON_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  408: 'Timeout',
  409: 'Conflict',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export function isRetryableStatus(status: number, reason: string): boolean {
  if (status === 409) return reason !== 'AlreadyExists';
  return status === 408 || status === 429 || status >= 500;
}

interface ApiStatusBody {
  readonly message?: string;
  readonly reason?: string;
  readonly details?: {
    readonly retryAfterSeconds?: number;
    readonly causes?: readonly { message?: string }[];
  };
}

/** Converts anything a client-node call threw into a K8sActionError naming what was being done. */
export function toK8sError(err: unknown, doing: string): K8sActionError {
  if (err instanceof K8sActionError) return err;
  if (err instanceof ApiException) {
    const status = parseStatus((err as ApiException<unknown>).body);
    const code = (err as ApiException<unknown>).code;
    const reason = status?.reason || REASON_BY_STATUS[code] || (code >= 500 ? 'InternalError' : 'Unknown');
    const causes = status?.details?.causes?.map((c) => c.message).filter(Boolean) ?? [];
    const detail = [status?.message ?? `HTTP ${code}`, ...causes].join('; ');
    const header = Number((err as ApiException<unknown>).headers?.['retry-after'] ?? NaN);
    const retryAfter = status?.details?.retryAfterSeconds ?? (Number.isFinite(header) ? header : undefined);
    return new K8sActionError(`${doing}: ${detail} (HTTP ${code} ${reason})${hint(code)}`, {
      status: code,
      reason,
      retryable: isRetryableStatus(code, reason),
      ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter * 1000 }),
      apiStatus: status,
      cause: err,
    });
  }
  if (err instanceof ApiTimeout) {
    // A write may have been applied before the answer was lost, as with a 504.
    return new K8sActionError(
      `${doing}: the Kubernetes API did not answer within ${err.timeoutMs} ms (kubernetes.requestTimeoutMs); ` +
        'a write may or may not have been applied',
      { status: 0, reason: 'Timeout', retryable: true, cause: err },
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof Error && err.name === 'AbortError') {
    // The caller (engine timeout, shutdown) cancelled the action; whether to try again is the caller's call.
    return new K8sActionError(`${doing}: cancelled`, {
      status: 0,
      reason: 'Cancelled',
      retryable: false,
      cause: err,
    });
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && TLS_ERROR_CODES.has(code)) {
    // The server's certificate does not verify against the kubeconfig's CA: retrying cannot fix that.
    return new K8sActionError(
      `${doing}: the API server's TLS certificate was rejected (${code}: ${message}); check certificate-authority in the kubeconfig`,
      {
        status: 0,
        reason: 'TLSError',
        retryable: false,
        cause: err,
      },
    );
  }
  // Connection refused/reset, DNS failure, timeouts: the server may be back on the next attempt.
  return new K8sActionError(
    `${doing}: cannot reach the Kubernetes API (${message}); check the cluster's kubeconfig and network`,
    {
      status: 0,
      reason: 'Unreachable',
      retryable: true,
      cause: err,
    },
  );
}

/** Node's stable error codes for certificate verification failures. */
const TLS_ERROR_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

function hint(code: number): string {
  if (code === 403) return '; grant the permission in deploy/rbac (see docs/actions.md#rbac)';
  if (code === 401) return '; the credentials in the kubeconfig or ServiceAccount token were rejected';
  return '';
}

function parseStatus(body: unknown): ApiStatusBody | undefined {
  let value = body;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return { message: value as string };
    }
  }
  return value !== null && typeof value === 'object' ? (value as ApiStatusBody) : undefined;
}
