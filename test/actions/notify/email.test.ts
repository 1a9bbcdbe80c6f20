import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmailNotifier, type EmailNotifierOptions } from '../../../src/actions/notify/email.ts';
import { IntegrationError } from '../../../src/integrations/errors.ts';
import { SmtpReceiver } from '../../support/receivers/smtp.ts';
import { remediated } from './fixtures.ts';

describe('EmailNotifier over a real SMTP server', () => {
  let smtp: SmtpReceiver;
  let options: EmailNotifierOptions;
  const notifiers: EmailNotifier[] = [];

  const make = (overrides: Partial<EmailNotifierOptions> = {}) => {
    const n = new EmailNotifier({ ...options, ...overrides });
    notifiers.push(n);
    return n;
  };

  beforeEach(async () => {
    smtp = await SmtpReceiver.start({ auth: { user: 'rebound', pass: 'smtp-pa55' } });
    options = {
      host: '127.0.0.1',
      port: smtp.port,
      secure: false,
      requireTLS: false,
      user: 'rebound',
      password: 'smtp-pa55',
      from: 'Rebound <rebound@example.org>',
      to: ['oncall@example.org', 'sre@example.org'],
      timeoutMs: 5_000,
    };
  });
  afterEach(async () => {
    for (const n of notifiers.splice(0)) n.close();
    await smtp.close();
  });

  it('sends the incident as plain text, exactly, threaded by incident', async () => {
    const delivery = await make().send(remediated());
    expect(smtp.mails).toHaveLength(1);
    const mail = smtp.mails[0]!;
    expect(mail.user).toBe('rebound');
    expect(mail.from).toBe('rebound@example.org');
    expect(mail.to).toEqual(['oncall@example.org', 'sre@example.org']);
    expect(mail.headers.get('subject')).toBe('[Rebound][WARNING] Remediated: HighErrorRate on checkout');
    expect(mail.headers.get('x-rebound-incident')).toBe('inc-01JABCDEF');
    expect(mail.headers.get('in-reply-to')).toBe('<incident.inc-01JABCDEF@rebound>');
    expect(mail.headers.get('references')).toBe('<incident.inc-01JABCDEF@rebound>');
    expect(mail.headers.get('message-id')).toBe(delivery.reference);
    expect(mail.text).toBe(
      [
        'Remediated: HighErrorRate on checkout',
        '',
        'Incident: inc-01JABCDEF',
        'Severity: WARNING',
        'Status: resolved',
        'Service: checkout',
        'Namespace: shop',
        'Cluster: prod-eu',
        'When: 2024-05-01T12:00:00Z',
        '',
        'Error ratio 7.2% > 5% for 2m',
        '',
        'What Rebound did:',
        '  - config.set degraded-mode=on: succeeded',
        '  - k8s.restart deployment/checkout: succeeded (3/3 ready in 41s)',
        '',
        'Result: verified: alert resolved (webhook) 52 s after the restart',
        '',
        'Dashboard: https://grafana.example.org/d/checkout',
        'Prometheus: https://prometheus.example.org/graph?g0.expr=x',
        'Runbook: https://rebound.example.org/runbooks/high-error-rate',
        'Incident: https://rebound.example.org/incidents/inc-01JABCDEF',
        '',
      ].join('\n'),
    );
    expect(JSON.stringify(delivery.request)).not.toContain('smtp-pa55');
  });

  it('maps SMTP 4xx to retryable and 5xx to permanent', async () => {
    smtp.rejectNext(451, 'Try again later').rejectNext(550, 'Mailbox unavailable');
    const transient = await make()
      .send(remediated())
      .catch((e: unknown) => e);
    expect(transient).toBeInstanceOf(IntegrationError);
    expect(transient).toMatchObject({ service: 'smtp', status: 451, retryable: true });
    expect(
      await make()
        .send(remediated())
        .catch((e: unknown) => e),
    ).toMatchObject({ status: 550, retryable: false });
  });

  it('fails permanently on bad credentials without echoing the password', async () => {
    const err = await make({ password: 'wrong-pa55' })
      .send(remediated())
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ service: 'smtp', errorType: 'EAUTH', retryable: false });
    expect((err as Error).message).toContain('check the SMTP user and password');
    expect(JSON.stringify(err)).not.toContain('wrong-pa55');
  });

  it('reports an unreachable server as a retryable network error', async () => {
    await smtp.close();
    const err = await make()
      .send(remediated())
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ service: 'smtp', kind: 'network', retryable: true });
    smtp = await SmtpReceiver.start();
  });
});
