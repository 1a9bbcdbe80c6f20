import { isDeepStrictEqual } from 'node:util';
import { JSONPath } from 'jsonpath-plus';
import { z } from 'zod';
import { describeError } from '../../errors.ts';
import { readBodyUpTo, tryParseJson, type FetchLike } from '../../integrations/http.ts';
import { authorizeFromUserinfo, displayUrl, scrubUrls, withoutUserinfo } from '../../integrations/urls.ts';
import type { ActionDefinition } from '../types.ts';
import { VerificationFailedError, VerificationUnavailableError } from './errors.ts';

export const httpParams = z
  .object({
    url: z.url({ protocol: /^https?$/ }),
    method: z.enum(['GET', 'HEAD', 'POST']).default('GET'),
    headers: z.record(z.string(), z.string()).default({}),
    body: z.string().max(65_536).optional(),
    timeoutMs: z.number().int().positive().max(120_000).optional(),
    expect: z
      .object({
        /** Accepted statuses; default any 2xx. Redirects are never followed, so a 3xx is compared as is. */
        status: z.union([z.number().int(), z.array(z.number().int()).min(1)]).optional(),
        bodyContains: z.string().min(1).optional(),
        /** JSONPath into the JSON body; its first match must deep-equal `equals`. */
        jsonPath: z.string().min(1).optional(),
        equals: z.unknown().optional(),
      })
      .strict()
      .refine((e) => e.jsonPath === undefined || e.equals !== undefined, { message: 'jsonPath needs equals' })
      .prefault({}),
  })
  .strict();

export type HttpParams = z.infer<typeof httpParams>;

export interface HttpResult {
  readonly url: string;
  readonly status: number;
  readonly checks: readonly { check: string; passed: boolean; detail: string }[];
}

export interface HttpCheckDeps {
  readonly allowedUrlPrefixes: readonly string[];
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
  readonly fetch?: FetchLike;
}

/** `verify.http`: a synthetic request (smoke test) to an allow-listed URL with expected status/body. */
export function httpCheckAction(deps: HttpCheckDeps): ActionDefinition<HttpParams, HttpResult> {
  return {
    name: 'verify.http',
    description: 'Send a synthetic request and check its status, body text or a JSON value',
    mutating: false,
    readOnly: true,
    params: httpParams,
    async run(params, ctx) {
      if (!isAllowed(params.url, deps.allowedUrlPrefixes)) {
        throw new VerificationUnavailableError(
          `verify.http: ${new URL(params.url).origin} is not under verify.http.allowedUrlPrefixes; add its prefix to the configuration`,
          { retryable: false },
        );
      }
      const timeoutMs = params.timeoutMs ?? deps.timeoutMs;
      // Recorded in execution history and shown on the timeline: without credentials or query.
      const shown = displayUrl(params.url);
      let answer: { status: number; text: string };
      const timeout = AbortSignal.timeout(timeoutMs);
      try {
        answer = await fetchCapped(params, AbortSignal.any([ctx.signal, timeout]), deps);
      } catch (err) {
        ctx.signal.throwIfAborted();
        const reason = timeout.aborted ? `no answer within ${timeoutMs} ms` : failureReason(err);
        throw new VerificationFailedError(`verify.http: ${params.method} ${shown} failed: ${reason}`, {
          url: shown,
          error: reason,
        });
      }
      const checks = judge(params.expect, answer);
      const result: HttpResult = { url: shown, status: answer.status, checks };
      const failed = checks.filter((c) => !c.passed);
      if (failed.length > 0) {
        throw new VerificationFailedError(
          `verify.http: ${params.method} ${shown}: ${failed.map((c) => c.detail).join('; ')}`,
          result,
        );
      }
      return { output: result, writes: [] };
    },
  };
}

// undici reports "fetch failed" and hides the socket error (ECONNREFUSED…) in `cause`.
function failureReason(err: unknown): string {
  const code = err instanceof Error ? (err.cause as { code?: unknown } | undefined)?.code : undefined;
  const reason = scrubUrls(describeError(err));
  return typeof code === 'string' ? `${reason} (${code})` : reason;
}

/**
 * Same origin as a configured prefix and a path under it, segment by segment: `http://svc` never admits
 * `http://svc.evil`, nor `http://svc/health` `http://svc/health-admin/reset`.
 */
export function isAllowed(url: string, prefixes: readonly string[]): boolean {
  const target = new URL(url);
  return prefixes.some((p) => {
    const prefix = new URL(p);
    if (prefix.origin !== target.origin) return false;
    const base = prefix.pathname;
    return target.pathname === base || target.pathname.startsWith(base.endsWith('/') ? base : `${base}/`);
  });
}

async function fetchCapped(params: HttpParams, signal: AbortSignal, deps: HttpCheckDeps) {
  const { url, authorization } = withoutUserinfo(params.url);
  const response = await (deps.fetch ?? fetch)(url, {
    method: params.method,
    headers: authorizeFromUserinfo(authorization, { 'user-agent': 'rebound-verify/1', ...params.headers }),
    body: params.body,
    redirect: 'manual',
    signal,
  });
  // Beyond maxBodyBytes the body is cut: the expectations read its beginning.
  const { text } = await readBodyUpTo(response, deps.maxBodyBytes);
  return { status: response.status, text };
}

function judge(expect: HttpParams['expect'], answer: { status: number; text: string }) {
  const checks: { check: string; passed: boolean; detail: string }[] = [];
  const statuses =
    expect.status === undefined ? undefined : Array.isArray(expect.status) ? expect.status : [expect.status];
  const statusOk = statuses ? statuses.includes(answer.status) : answer.status >= 200 && answer.status < 300;
  checks.push({
    check: 'status',
    passed: statusOk,
    detail: `status ${answer.status}, expected ${statuses ? statuses.join('|') : '2xx'}`,
  });
  if (expect.bodyContains !== undefined) {
    const passed = answer.text.includes(expect.bodyContains);
    checks.push({
      check: 'bodyContains',
      passed,
      detail: `body ${passed ? 'contains' : 'lacks'} ${JSON.stringify(expect.bodyContains)}`,
    });
  }
  if (expect.jsonPath !== undefined) checks.push(judgeJson(expect.jsonPath, expect.equals, answer.text));
  return checks;
}

function judgeJson(path: string, expected: unknown, text: string) {
  const json = tryParseJson(text);
  if (json === undefined || json === null || typeof json !== 'object') {
    return { check: 'jsonPath', passed: false, detail: 'body is not a JSON object or array' };
  }
  const found: unknown[] = JSONPath({ path, json, wrap: true, eval: false });
  if (found.length === 0) return { check: 'jsonPath', passed: false, detail: `${path} matched nothing` };
  const passed = isDeepStrictEqual(found[0], expected);
  return {
    check: 'jsonPath',
    passed,
    detail: `${path} = ${JSON.stringify(found[0])}, expected ${JSON.stringify(expected)}`,
  };
}
