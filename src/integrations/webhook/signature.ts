import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signatures of Rebound's outgoing webhooks, in the scheme Slack made familiar:
 * `X-Rebound-Signature: v1=` + hex(HMAC-SHA256(secret, "v1:" + X-Rebound-Timestamp + ":" + raw body)).
 * Binding the timestamp into the MAC lets a receiver reject replays older than its window.
 */

export const SIGNATURE_HEADER = 'x-rebound-signature';
export const TIMESTAMP_HEADER = 'x-rebound-timestamp';

/** The signature header value for a body sent at `timestamp` (Unix seconds). */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return 'v1=' + createHmac('sha256', secret).update(`v1:${timestamp}:${body}`).digest('hex');
}

/** For receivers (and tests): true when the signature matches and the timestamp is within `toleranceSeconds`. */
export function verifyWebhookSignature(input: {
  secret: string;
  timestamp: string | undefined;
  signature: string | undefined;
  body: string;
  nowSeconds: number;
  toleranceSeconds?: number;
}): boolean {
  if (!input.timestamp || !input.signature || !/^\d+$/.test(input.timestamp)) return false;
  const ts = Number(input.timestamp);
  if (Math.abs(input.nowSeconds - ts) > (input.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signWebhook(input.secret, ts, input.body));
  const given = Buffer.from(input.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
