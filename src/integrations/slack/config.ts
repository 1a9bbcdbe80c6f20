import { z } from 'zod';

/** The `slack` config section for interactive approvals (the Slack app behind the buttons). */
export const slackAppConfigSchema = z
  .object({
    /** Basic Information → App Credentials → Signing Secret; never logged. */
    signingSecret: z.string().min(16),
    /** Slack user ids (`U…`, `W…`) allowed to press Remediate now / Skip / Snooze; empty means nobody. */
    allowedUsers: z
      .array(z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'a Slack user id looks like U012AB3CD'))
      .default([]),
    /** Refuse clicks from any other workspace. */
    teamId: z
      .string()
      .regex(/^T[A-Z0-9]{2,}$/)
      .optional(),
    /** Incoming webhook of the same app that posts approval requests (its buttons reach the app's Request URL). */
    approvalWebhookUrl: z.url({ protocol: /^https?$/ }).optional(),
    /** Where `response_url` updates may go; Slack's own host by default. Tests point it at a local receiver. */
    responseUrlPrefixes: z.array(z.url()).default(['https://hooks.slack.com/']),
    timeoutMs: z.number().int().positive().max(30_000).default(5_000),
  })
  .strict();

export type SlackAppConfig = z.infer<typeof slackAppConfigSchema>;
