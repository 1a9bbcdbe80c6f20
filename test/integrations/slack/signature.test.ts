import { describe, expect, it } from 'vitest';
import { slackSignature, verifySlackSignature } from '../../../src/integrations/slack/signature.ts';

// Slack's published example (api.slack.com/authentication/verifying-requests-from-slack).
const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TIMESTAMP = '1531420618';
const BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar' +
  '&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com' +
  '%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const SIGNATURE = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';

describe('Slack request signature', () => {
  const base = {
    signingSecret: SECRET,
    rawBody: BODY,
    timestamp: TIMESTAMP,
    signature: SIGNATURE,
    nowSeconds: 1531420618,
  };

  it('reproduces the published vector', () => {
    expect(slackSignature(SECRET, TIMESTAMP, BODY)).toBe(SIGNATURE);
    expect(slackSignature(SECRET, TIMESTAMP, Buffer.from(BODY))).toBe(SIGNATURE);
    expect(verifySlackSignature(base)).toEqual({ ok: true });
  });

  it('accepts 300 s of clock skew either way and refuses more', () => {
    expect(verifySlackSignature({ ...base, nowSeconds: 1531420618 + 300 }).ok).toBe(true);
    expect(verifySlackSignature({ ...base, nowSeconds: 1531420618 - 300 }).ok).toBe(true);
    expect(verifySlackSignature({ ...base, nowSeconds: 1531420618 + 301 })).toEqual({
      ok: false,
      reason: 'stale-timestamp',
    });
    expect(verifySlackSignature({ ...base, nowSeconds: 1531420618 - 301 })).toEqual({
      ok: false,
      reason: 'stale-timestamp',
    });
  });

  it('refuses a changed body, secret or signature, and missing headers', () => {
    expect(verifySlackSignature({ ...base, rawBody: BODY + '&x=1' })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(verifySlackSignature({ ...base, signingSecret: SECRET.replace('8', '9') })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(verifySlackSignature({ ...base, signature: SIGNATURE.slice(0, -1) })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(verifySlackSignature({ ...base, signature: SIGNATURE.toUpperCase() })).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(verifySlackSignature({ ...base, signature: undefined })).toEqual({
      ok: false,
      reason: 'missing-headers',
    });
    expect(verifySlackSignature({ ...base, timestamp: '1531420618.5' })).toEqual({
      ok: false,
      reason: 'missing-headers',
    });
  });
});

describe('slackAppConfigSchema', () => {
  it('validates user ids and fills defaults', async () => {
    const { slackAppConfigSchema } = await import('../../../src/integrations/slack/config.ts');
    expect(slackAppConfigSchema.parse({ signingSecret: SECRET, allowedUsers: ['U012AB3CD'] })).toEqual({
      signingSecret: SECRET,
      allowedUsers: ['U012AB3CD'],
      responseUrlPrefixes: ['https://hooks.slack.com/'],
      timeoutMs: 5_000,
    });
    expect(slackAppConfigSchema.safeParse({ signingSecret: SECRET, allowedUsers: ['ana'] }).success).toBe(
      false,
    );
    expect(slackAppConfigSchema.safeParse({ signingSecret: SECRET, extra: 1 }).success).toBe(false);
  });
});
