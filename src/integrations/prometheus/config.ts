import { z } from 'zod';

/** Where Rebound reads Prometheus; only this base URL is ever called. */
export const prometheusConfigSchema = z
  .object({
    /** Base URL, with any path prefix, e.g. `http://prometheus:9090` or `https://example.org/prometheus`. */
    url: z.url({ protocol: /^https?$/ }),
    timeoutMs: z.number().int().positive().max(120_000).default(10_000),
    /** Sent as `Authorization: Bearer …`; never logged. */
    bearerToken: z.string().min(1).optional(),
  })
  .strict();

export type PrometheusConfig = z.infer<typeof prometheusConfigSchema>;
