import { describe, expect, it } from 'vitest';
import { notifyConfigSchema, routeBySeverity } from '../../../src/actions/notify/config.ts';

describe('routeBySeverity', () => {
  const { routing } = notifyConfigSchema.parse({});

  it('defaults to the seed policy', () => {
    expect(routeBySeverity('info', routing)).toEqual({
      matched: 'info',
      remediate: false,
      channels: ['slack'],
    });
    expect(routeBySeverity('low', routing)).toEqual({
      matched: 'low',
      remediate: false,
      channels: ['slack'],
    });
    expect(routeBySeverity('warning', routing)).toEqual({
      matched: 'warning',
      remediate: true,
      channels: ['slack'],
    });
    expect(routeBySeverity('medium', routing)).toEqual({
      matched: 'medium',
      remediate: true,
      channels: ['slack'],
    });
    expect(routeBySeverity('critical', routing)).toEqual({
      matched: 'critical',
      remediate: true,
      channels: ['pagerduty'],
    });
  });

  it('matches case-insensitively and sends unknown or missing severities to people only', () => {
    expect(routeBySeverity(' Critical ', routing).matched).toBe('critical');
    expect(routeBySeverity('disaster', routing)).toEqual({
      matched: 'unknown',
      remediate: false,
      channels: ['slack'],
    });
    expect(routeBySeverity(undefined, routing)).toEqual({
      matched: 'unknown',
      remediate: false,
      channels: ['slack'],
    });
  });

  it('takes routes from config, replacing the defaults', () => {
    const config = notifyConfigSchema.parse({
      routing: {
        severities: {
          CRITICAL: { remediate: true, channels: ['pagerduty', 'slack', 'email'] },
          page: { remediate: false, channels: ['pagerduty'] },
        },
        unknown: { remediate: false, channels: ['webhook'] },
      },
    });
    expect(routeBySeverity('critical', config.routing).channels).toEqual(['pagerduty', 'slack', 'email']);
    expect(routeBySeverity('page', config.routing).remediate).toBe(false);
    expect(routeBySeverity('warning', config.routing)).toEqual({
      matched: 'unknown',
      remediate: false,
      channels: ['webhook'],
    });
  });

  it('returns a copy callers cannot use to change the config', () => {
    const decision = routeBySeverity('warning', routing);
    (decision.channels as string[]).push('email');
    expect(routeBySeverity('warning', routing).channels).toEqual(['slack']);
  });
});

describe('notifyConfigSchema', () => {
  it('rejects unknown keys, bad channels, short secrets and wrong routing keys', () => {
    expect(notifyConfigSchema.safeParse({ slak: {} }).success).toBe(false);
    expect(
      notifyConfigSchema.safeParse({
        routing: { severities: { low: { remediate: false, channels: ['sms'] } } },
      }).success,
    ).toBe(false);
    expect(
      notifyConfigSchema.safeParse({
        routing: { severities: { low: { remediate: false, channels: ['slack', 'slack'] } } },
      }).success,
    ).toBe(false);
    expect(
      notifyConfigSchema.safeParse({ webhook: { url: 'https://x.example', secret: 'short' } }).success,
    ).toBe(false);
    const pd = notifyConfigSchema.safeParse({ pagerduty: { routingKey: 'abc' } });
    expect(pd.success).toBe(false);
    expect(JSON.stringify(pd.error?.issues)).toContain('32 characters');
    expect(
      notifyConfigSchema.safeParse({ email: { host: 'smtp', from: 'a@b', to: ['c@d'], user: 'u' } }).success,
    ).toBe(false);
  });

  it('fills channel defaults', () => {
    const parsed = notifyConfigSchema.parse({
      pagerduty: { routingKey: 'x'.repeat(32) },
      email: { host: 'smtp', from: 'r@x.org', to: ['o@x.org'] },
    });
    expect(parsed.pagerduty).toEqual({
      routingKey: 'x'.repeat(32),
      url: 'https://events.pagerduty.com',
      source: 'rebound',
      timeoutMs: 10_000,
    });
    expect(parsed.email).toMatchObject({ port: 587, secure: false, requireTLS: false });
    expect(parsed.attempts).toBe(3);
  });
});
