import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DELIVERY_HEADER, WebhookNotifier } from '../../../src/actions/notify/webhook.ts';
import {
  checkWebhookSignature,
  signWebhook,
  verifyWebhookSignature,
} from '../../../src/integrations/webhook/signature.ts';
import type { HttpRecorder } from '../../support/receivers/http-recorder.ts';
import { startWebhookReceiver } from '../../support/receivers/webhook.ts';
import { remediated, WEBHOOK_SECRET } from './fixtures.ts';

const NOW = new Date('2024-05-01T12:00:05Z');

describe('WebhookNotifier', () => {
  let hook: HttpRecorder;
  let notifier: WebhookNotifier;

  beforeEach(async () => {
    hook = await startWebhookReceiver();
    notifier = new WebhookNotifier({
      url: `${hook.url}/rebound?token=abc`,
      secret: WEBHOOK_SECRET,
      timeoutMs: 2_000,
      now: () => NOW,
    });
  });
  afterEach(() => hook.close());

  it('posts signed JSON the receiver can verify, exactly', async () => {
    const delivery = await notifier.send(remediated(), { idempotencyKey: 'exec-1/Notify/0' });
    const req = hook.requests[0]!;
    expect(req.path).toBe('/rebound');
    expect(req.query.get('token')).toBe('abc');
    expect(req.headers['x-rebound-timestamp']).toBe('1714564805');
    expect(req.headers[DELIVERY_HEADER]).toBe('exec-1/Notify/0');
    expect(req.headers['x-rebound-signature']).toBe(signWebhook(WEBHOOK_SECRET, 1714564805, req.body));
    const check = {
      secret: WEBHOOK_SECRET,
      timestamp: '1714564805',
      signature: String(req.headers['x-rebound-signature']),
      body: req.body,
    };
    expect(verifyWebhookSignature({ ...check, nowSeconds: 1714564810 })).toBe(true);
    expect(verifyWebhookSignature({ ...check, nowSeconds: 1714564805 + 301 })).toBe(false);
    expect(verifyWebhookSignature({ ...check, body: req.body + ' ', nowSeconds: 1714564805 })).toBe(false);
    expect(verifyWebhookSignature({ ...check, secret: 'other'.repeat(8), nowSeconds: 1714564805 })).toBe(
      false,
    );
    // Whole Unix seconds only, as signed: the same instant written in hex or with an exponent is refused.
    expect(checkWebhookSignature({ ...check, timestamp: '0x6632781A', nowSeconds: 1714564805 })).toBe(
      'malformed',
    );
    expect(checkWebhookSignature({ ...check, timestamp: undefined, nowSeconds: 1714564805 })).toBe('missing');
    expect(JSON.parse(req.body)).toEqual({
      id: 'exec-1/Notify/0',
      type: 'incident.remediated',
      time: '2024-05-01T12:00:00Z',
      notification: remediated(),
    });
    // Origin only: the path of a capability URL is its secret, a query string often a token.
    expect(delivery.request.path).toBe(hook.url);
  });

  it('signs with a vector computed independently (Python hmac)', () => {
    expect(signWebhook('secret', 1700000000, '{}')).toBe(
      'v1=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163',
    );
  });

  it('does not follow redirects and maps statuses', async () => {
    hook.script(
      { status: 307, headers: { location: 'http://169.254.169.254/' } },
      { status: 410, body: 'gone' },
      { status: 502, body: 'bad gateway' },
    );
    expect(await notifier.send(remediated()).catch((e: unknown) => e)).toMatchObject({
      service: 'webhook',
      status: 307,
      retryable: false,
    });
    expect(await notifier.send(remediated()).catch((e: unknown) => e)).toMatchObject({
      status: 410,
      retryable: false,
    });
    expect(await notifier.send(remediated()).catch((e: unknown) => e)).toMatchObject({
      status: 502,
      retryable: true,
    });
    expect(hook.requests).toHaveLength(3);
  });
});
