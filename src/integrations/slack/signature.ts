import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Slack request signing (api.slack.com/authentication/verifying-requests-from-slack):
 * `v0=` + hex(HMAC-SHA256(signing secret, "v0:" + X-Slack-Request-Timestamp + ":" + raw body)), compared in
 * constant time with X-Slack-Signature; timestamps more than 300 s from now are replays and refused.
 */

export const SLACK_TIMESTAMP_HEADER = 'x-slack-request-timestamp';
export const SLACK_SIGNATURE_HEADER = 'x-slack-signature';

export interface SlackSignatureInput {
  readonly signingSecret: string;
  /** The body exactly as received, before any parsing. */
  readonly rawBody: string | Buffer;
  readonly timestamp: string | undefined;
  readonly signature: string | undefined;
  readonly nowSeconds: number;
  readonly toleranceSeconds?: number;
}

export type SlackSignatureVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'missing-headers' | 'stale-timestamp' | 'bad-signature' };

/** The `v0=` signature Slack would send for this body and timestamp. */
export function slackSignature(signingSecret: string, timestamp: string, rawBody: string | Buffer): string {
  const hmac = createHmac('sha256', signingSecret);
  hmac.update(`v0:${timestamp}:`);
  hmac.update(rawBody);
  return 'v0=' + hmac.digest('hex');
}

/** Checks a request came from Slack, recently. */
export function verifySlackSignature(input: SlackSignatureInput): SlackSignatureVerdict {
  if (!input.timestamp || !input.signature || !/^\d{1,12}$/.test(input.timestamp))
    return { ok: false, reason: 'missing-headers' };
  if (Math.abs(input.nowSeconds - Number(input.timestamp)) > (input.toleranceSeconds ?? 300)) {
    return { ok: false, reason: 'stale-timestamp' };
  }
  const expected = Buffer.from(slackSignature(input.signingSecret, input.timestamp, input.rawBody), 'utf8');
  const given = Buffer.from(input.signature, 'utf8');
  // timingSafeEqual needs equal lengths; a length mismatch reveals nothing about the secret.
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return { ok: false, reason: 'bad-signature' };
  return { ok: true };
}
