import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VerificationFailedError, VerificationUnavailableError } from '../../../src/actions/verify/errors.ts';
import { httpCheckAction, isAllowed } from '../../../src/actions/verify/http-check.ts';
import { HttpRecorder } from '../../support/receivers/http-recorder.ts';
import { rejection, testContext } from './context.ts';

describe('verify.http', () => {
  let app: HttpRecorder;
  let action: ReturnType<typeof httpCheckAction>;

  beforeEach(async () => {
    app = await HttpRecorder.start((req) =>
      req.path === '/healthz'
        ? { status: 200, body: { status: 'ok', checks: { db: 'up' }, version: 3 } }
        : { status: 404, body: 'no such page' },
    );
    action = httpCheckAction({ allowedUrlPrefixes: [`${app.url}/`], timeoutMs: 2_000, maxBodyBytes: 64 });
  });
  afterEach(() => app.close());

  const run = (params: Record<string, unknown>) => action.run(action.params.parse(params), testContext());

  it('passes on status, body text and a JSON value', async () => {
    const out = (
      await run({
        url: `${app.url}/healthz`,
        expect: { status: 200, bodyContains: '"ok"', jsonPath: '$.checks.db', equals: 'up' },
      })
    ).output;
    expect(out.status).toBe(200);
    expect(out.checks.map((c) => [c.check, c.passed])).toEqual([
      ['status', true],
      ['bodyContains', true],
      ['jsonPath', true],
    ]);
    expect(app.requests[0]).toMatchObject({ method: 'GET', path: '/healthz' });
    expect(app.requests[0]!.headers['user-agent']).toBe('rebound-verify/1');
  });

  it('sends the configured method, headers and body', async () => {
    app.script({ status: 201, body: 'created' });
    await run({
      url: `${app.url}/smoke`,
      method: 'POST',
      headers: { 'x-probe': '1' },
      body: '{"a":1}',
      expect: { status: [200, 201] },
    });
    expect(app.requests[0]).toMatchObject({ method: 'POST', body: '{"a":1}' });
    expect(app.requests[0]!.headers['x-probe']).toBe('1');
  });

  it('fails with Rebound.VerificationFailed listing every unmet expectation', async () => {
    const err = await rejection(
      run({
        url: `${app.url}/healthz`,
        expect: { bodyContains: 'degraded', jsonPath: '$.version', equals: 4 },
      }),
    );
    expect(err).toBeInstanceOf(VerificationFailedError);
    expect(err.message).toContain('lacks "degraded"');
    expect(err.message).toContain('$.version = 3, expected 4');
    expect((err as VerificationFailedError).details).toMatchObject({ status: 200 });
    await expect(run({ url: `${app.url}/missing` })).rejects.toThrow(/status 404, expected 2xx/);
  });

  it('does not follow redirects away from the allowed URL', async () => {
    app.script({ status: 302, headers: { location: 'http://169.254.169.254/' }, body: '' });
    await expect(run({ url: `${app.url}/healthz` })).rejects.toThrow(/status 302/);
    expect(app.requests).toHaveLength(1);
  });

  it('cuts large bodies at maxBodyBytes', async () => {
    app.script({ status: 200, body: 'x'.repeat(1000) + 'needle' });
    await expect(run({ url: `${app.url}/big`, expect: { bodyContains: 'needle' } })).rejects.toThrow(
      /lacks "needle"/,
    );
  });

  it('fails on time-outs and refused connections', async () => {
    app.script({ status: 200, hang: true });
    await expect(run({ url: `${app.url}/healthz`, timeoutMs: 100 })).rejects.toThrow(
      'no answer within 100 ms',
    );
    const closed = await HttpRecorder.start(() => ({ status: 200 }));
    const url = `${closed.url}/healthz`;
    await closed.close();
    const refused = httpCheckAction({ allowedUrlPrefixes: [url], timeoutMs: 1_000, maxBodyBytes: 64 });
    await expect(refused.run(refused.params.parse({ url }), testContext())).rejects.toThrow(/ECONNREFUSED/);
  });

  it('refuses URLs outside the allow-list', async () => {
    const err = await rejection(run({ url: 'http://169.254.169.254/latest/meta-data' }));
    expect(err).toBeInstanceOf(VerificationUnavailableError);
    expect(err.message).toContain('allowedUrlPrefixes');
    expect(app.requests).toHaveLength(0);
  });

  it('matches origins exactly and paths by prefix', () => {
    expect(isAllowed('http://svc:8080/api/health', ['http://svc:8080/api'])).toBe(true);
    expect(isAllowed('http://svc.evil:8080/api', ['http://svc:8080/'])).toBe(false);
    expect(isAllowed('https://svc:8080/api', ['http://svc:8080/'])).toBe(false);
    expect(isAllowed('http://svc:8080/other', ['http://svc:8080/api/'])).toBe(false);
    expect(isAllowed('http://svc/x', [])).toBe(false);
    // Path segments, not characters: a prefix never admits a sibling that merely starts the same.
    expect(isAllowed('http://svc:8080/api', ['http://svc:8080/api'])).toBe(true);
    expect(isAllowed('http://svc:8080/api-admin/reset', ['http://svc:8080/api'])).toBe(false);
    expect(isAllowed('http://svc:8080/anything', ['http://svc:8080'])).toBe(true);
  });
});
