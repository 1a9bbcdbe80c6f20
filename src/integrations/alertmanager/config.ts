import { z } from 'zod';

/** Where Rebound reads (and silences in) Alertmanager; only this base URL is ever called. */
export const alertmanagerConfigSchema = z
  .object({
    /** Base URL, with any path prefix, e.g. `http://alertmanager:9093`. */
    url: z.url({ protocol: /^https?$/ }),
    timeoutMs: z.number().int().positive().max(120_000).default(10_000),
    /** Sent as `Authorization: Bearer …`; never logged. */
    bearerToken: z.string().min(1).optional(),
  })
  .strict();

export type AlertmanagerConfig = z.infer<typeof alertmanagerConfigSchema>;
