/**
 * API errors as `Status` objects, the way the apiserver writes them
 * (https://kubernetes.io/docs/reference/using-api/api-concepts/#response-status-kind).
 */

export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly causes?: readonly { reason?: string; message?: string; field?: string }[];
  readonly retryAfterSeconds?: number;
}

export interface Status {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: Record<string, never>;
  readonly status: 'Failure' | 'Success';
  readonly message: string;
  readonly reason: string;
  readonly details?: StatusDetails;
  readonly code: number;
}

/** Thrown inside handlers; the server turns it into the Status response. */
export class StatusError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
  }
}

export function failure(code: number, reason: string, message: string, details?: StatusDetails): StatusError {
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  });
}

/** `deployments.apps`, or `pods` for the core group: how the apiserver names a resource in messages. */
export function qualified(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

export function notFound(resource: string, group: string, name: string): StatusError {
  return failure(404, 'NotFound', `${qualified(resource, group)} "${name}" not found`, {
    name,
    ...(group ? { group } : {}),
    kind: resource,
  });
}

export function conflict(resource: string, group: string, name: string): StatusError {
  return failure(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": the object has been modified; ` +
      'please apply your changes to the latest version and try again',
    { name, ...(group ? { group } : {}), kind: resource },
  );
}

export function alreadyExists(resource: string, group: string, name: string): StatusError {
  return failure(409, 'AlreadyExists', `${qualified(resource, group)} "${name}" already exists`, {
    name,
    ...(group ? { group } : {}),
    kind: resource,
  });
}

/** 422 with field causes, like validation failures (`Deployment.apps "web" is invalid: spec.replicas: ...`). */
export function invalid(
  kind: string,
  group: string,
  name: string,
  causes: readonly { field: string; message: string }[],
): StatusError {
  const text = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
  return failure(422, 'Invalid', `${qualified(kind, group)} "${name}" is invalid: ${text}`, {
    name,
    ...(group ? { group } : {}),
    kind,
    causes: causes.map((c) => ({ reason: 'FieldValueInvalid', message: c.message, field: c.field })),
  });
}

export function badRequest(message: string): StatusError {
  return failure(400, 'BadRequest', message);
}
