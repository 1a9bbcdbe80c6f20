/**
 * One catalogue of coded errors. Each error carries its fate: the HTTP status it maps to, whether a retry
 * can help, and after how long. Codes are never reused; callers branch on `code`, never on messages.
 */

export interface ErrorSpec {
  readonly status: number;
  readonly retryable: boolean;
}

export const ERRORS = {
  BAD_REQUEST: { status: 400, retryable: false },
  INVALID_PAYLOAD: { status: 400, retryable: false },
  INVALID_CONFIG: { status: 400, retryable: false },
  INVALID_PATTERN: { status: 400, retryable: false },
  INVALID_DEFINITION: { status: 400, retryable: false },
  UNAUTHORIZED: { status: 401, retryable: false },
  FORBIDDEN: { status: 403, retryable: false },
  NOT_FOUND: { status: 404, retryable: false },
  METHOD_NOT_ALLOWED: { status: 405, retryable: false },
  REQUEST_TIMEOUT: { status: 408, retryable: true },
  CONFLICT: { status: 409, retryable: true },
  ILLEGAL_TRANSITION: { status: 409, retryable: false },
  PAYLOAD_TOO_LARGE: { status: 413, retryable: false },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false },
  OVERLOADED: { status: 503, retryable: true },
  UNAVAILABLE: { status: 503, retryable: true },
  INTERNAL: { status: 500, retryable: true },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export interface ReboundErrorOptions {
  /** Where in the input the problem is, e.g. `alerts[0].labels`. */
  readonly path?: string;
  /** Milliseconds after which a retry may succeed (becomes Retry-After on HTTP). */
  readonly retryAfterMs?: number;
  readonly details?: unknown;
  readonly cause?: unknown;
}

export class ReboundError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly path: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: ReboundErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ReboundError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.retryable = ERRORS[code].retryable;
    this.path = options.path;
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.path === undefined ? {} : { path: this.path }),
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

export function isReboundError(value: unknown): value is ReboundError {
  return value instanceof ReboundError;
}

/** Describes any thrown value in one line, for logs and error outputs. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
