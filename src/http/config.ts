import { z } from 'zod';
import { sha256Hex } from './auth.ts';

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const secret = z
  .string()
  .min(16, 'at least 16 characters (use a random secret, e.g. `openssl rand -hex 32`)');

const apiTokenSchema = z
  .object({
    name: z.string().min(1),
    role: z.enum(ROLES),
    /** SHA-256 hex of the token (what `rebound tokens create` prints for the config); preferred at rest. */
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
    /** The token itself, usually `${ENV_VAR}`; hashed in memory at start-up. */
    token: secret.optional(),
  })
  .strict()
  .refine((t) => (t.sha256 === undefined) !== (t.token === undefined), {
    message: 'give exactly one of sha256 or token',
  });

/** HOST:PORT with a port from 0 to 65535 (0: any free port). */
export const listenAddress = z
  .string()
  // The host: an IPv6 literal in brackets, or a name / IPv4 address (letters, digits, dots, dashes, underscores).
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):\d{1,5}$/, 'HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080')
  // Only once the format is right: "localhost" has no port to judge.
  .refine((s) => Number(s.slice(s.lastIndexOf(':') + 1)) <= 65535, {
    message: 'the port must be 65535 or less',
    abort: true,
    when: (payload) => payload.issues.length === 0,
  });

export const serverConfigSchema = z
  .object({
    /** HOST:PORT. Anything but a loopback host requires webhook and API authentication. */
    listen: listenAddress.default('127.0.0.1:8080'),
    /** Largest accepted request body in bytes (413 beyond). */
    bodyLimitBytes: z
      .number()
      .int()
      .positive()
      .default(5 * 1024 * 1024),
    /** Public URL of the dashboard, used in links sent to Slack/PagerDuty. */
    publicUrl: z
      .url({ protocol: /^https?$/, error: 'an http(s) URL such as https://rebound.example.com' })
      .optional(),
    auth: z
      .object({
        /** Bearer tokens Alertmanager presents (`http_config.authorization.credentials`). */
        webhookTokens: z.array(secret).default([]),
        /** Optional HMAC-SHA256 body signature with a timestamp and a replay window. */
        hmac: z
          .object({
            secret,
            toleranceSeconds: z.number().int().positive().max(3600).default(300),
          })
          .strict()
          .optional(),
        apiTokens: z.array(apiTokenSchema).default([]),
        /**
         * Serve /metrics without a token even when the API needs one, for a scraper that cannot send a
         * bearer token. The series name rules, targets and runbooks.
         */
        publicMetrics: z.boolean().default(false),
      })
      .strict()
      .superRefine((auth, ctx) => {
        for (const issue of duplicateTokens(auth.webhookTokens, auth.apiTokens)) ctx.addIssue(issue);
      })
      .prefault({}),
  })
  .strict();

export type ServerConfig = z.infer<typeof serverConfigSchema>;

type ApiToken = z.infer<typeof apiTokenSchema>;

/**
 * Tokens listed twice, compared by their resolved values (a `token` against another's `sha256` too), and API
 * token names used twice. The authenticators take the first match, so a token listed twice would get its
 * role from the order of the entries. The messages name entries by index and name, never by secret.
 */
function duplicateTokens(
  webhookTokens: readonly string[],
  apiTokens: readonly ApiToken[],
): { code: 'custom'; path: (string | number)[]; message: string }[] {
  const issues: { code: 'custom'; path: (string | number)[]; message: string }[] = [];
  const entry = (i: number) => `name ${JSON.stringify(apiTokens[i]!.name)}, role ${apiTokens[i]!.role}`;
  const firstByHash = new Map<string, number>();
  const firstByName = new Map<string, number>();
  apiTokens.forEach((t, i) => {
    // An entry with neither value has its own issue already (zod refines the section all the same).
    const hash = t.sha256 ?? (t.token === undefined ? undefined : sha256Hex(t.token));
    const earlier = hash === undefined ? undefined : firstByHash.get(hash);
    if (hash !== undefined && earlier === undefined) firstByHash.set(hash, i);
    else if (earlier !== undefined)
      issues.push({
        code: 'custom',
        path: ['apiTokens', i],
        message:
          `this entry (${entry(i)}) has the same token as server.auth.apiTokens[${earlier}] (${entry(earlier)}), ` +
          'so its role would depend on the order of the entries; list each token once: remove one entry, or ' +
          'give it a token of its own',
      });
    const named = firstByName.get(t.name);
    if (named === undefined) firstByName.set(t.name, i);
    else
      issues.push({
        code: 'custom',
        path: ['apiTokens', i, 'name'],
        message:
          `this entry (${entry(i)}) has the same name as server.auth.apiTokens[${named}] (${entry(named)}); ` +
          'the name is the actor recorded for what its token does, so give each entry a name of its own',
      });
  });
  const firstWebhook = new Map<string, number>();
  webhookTokens.forEach((token, i) => {
    const earlier = firstWebhook.get(token);
    if (earlier === undefined) firstWebhook.set(token, i);
    else
      issues.push({
        code: 'custom',
        path: ['webhookTokens', i],
        message:
          `the same token as server.auth.webhookTokens[${earlier}]; list each token once: remove one, ` +
          'or give the sender a token of its own',
      });
  });
  return issues;
}
