import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The one signature scheme of every signed webhook Rebound sends or receives (the bus `webhook` target,
 * `notify.webhook`, and Alertmanager posts to ingest when HMAC is configured):
 * `X-Rebound-Signature: v1=` + hex(HMAC-SHA256(secret, X-Rebound-Timestamp + "." + raw body)).
 * Binding the timestamp into the MAC lets a receiver reject replays older than its window.
 */

export const SIGNATURE_HEADER = 'x-rebound-signature';
export const TIMESTAMP_HEADER = 'x-rebound-timestamp';

/** The signature header value for a body sent at `timestamp` (Unix seconds, as sent in the header). */
export function signWebhook(secret: string, timestamp: number | string, body: Buffer | string): string {
  return 'v1=' + createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** Compares two signatures without leaking where they differ. */
export function signaturesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

const TIMESTAMP_FORMAT = /^\d{1,15}$/;
const SIGNATURE_FORMAT = /^v1=[0-9a-f]{64}$/;

/**
 * What is wrong with the two headers on their own, so a receiver can refuse a request before it reads the
 * body: the headers missing, else the first not in its format (whole Unix seconds; `v1=` and 64 hex digits).
 */
export function signatureHeadersProblem(
  timestamp: string | undefined,
  signature: string | undefined,
):
  | { readonly kind: 'missing'; readonly headers: readonly string[] }
  | { readonly kind: 'malformed'; readonly header: string }
  | undefined {
  const missing = [...(timestamp ? [] : [TIMESTAMP_HEADER]), ...(signature ? [] : [SIGNATURE_HEADER])];
  if (missing.length > 0) return { kind: 'missing', headers: missing };
  if (!TIMESTAMP_FORMAT.test(timestamp!)) return { kind: 'malformed', header: TIMESTAMP_HEADER };
  if (!SIGNATURE_FORMAT.test(signature!)) return { kind: 'malformed', header: SIGNATURE_HEADER };
  return undefined;
}

export interface SignedRequest {
  readonly secret: string;
  readonly timestamp: string | undefined;
  readonly signature: string | undefined;
  readonly body: Buffer | string;
  readonly nowSeconds: number;
  readonly toleranceSeconds?: number;
}

/**
 * What is wrong with a signed request, if anything: a header `missing` or `malformed` (see
 * signatureHeadersProblem), a timestamp outside the replay window (`stale`), or a signature that does not
 * match the body.
 */
export function checkWebhookSignature(
  input: SignedRequest,
): 'ok' | 'missing' | 'malformed' | 'stale' | 'mismatch' {
  const problem = signatureHeadersProblem(input.timestamp, input.signature);
  if (problem) return problem.kind;
  const timestamp = input.timestamp!; // both present and well formed (above)
  if (Math.abs(input.nowSeconds - Number(timestamp)) > (input.toleranceSeconds ?? 300)) return 'stale';
  const expected = signWebhook(input.secret, timestamp, input.body);
  return signaturesEqual(expected, input.signature!) ? 'ok' : 'mismatch';
}

/** For receivers (and tests): true when the signature matches and the timestamp is within `toleranceSeconds`. */
export function verifyWebhookSignature(input: SignedRequest): boolean {
  return checkWebhookSignature(input) === 'ok';
}
