import { z } from 'zod';

export const ingestConfigSchema = z
  .object({
    /** Above this many alerts waiting for their commit, webhooks get 503 + Retry-After (never 429). */
    maxQueueDepth: z.number().int().positive().default(50_000),
    retryAfterSeconds: z.number().int().positive().max(3600).default(2),
    /** The envelope's `account` and `region` (EventBridge fields; any string on-premises). */
    account: z.string().default('000000000000'),
    region: z.string().default('local'),
  })
  .strict();

export type IngestConfig = z.infer<typeof ingestConfigSchema>;
