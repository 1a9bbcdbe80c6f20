import { z } from 'zod';

/** The `approvals` section of rebound.yaml: time-outs and how often expiries are checked. */
export const approvalsConfigSchema = z
  .object({
    /** Used when a runbook's `approval.request` gives no `timeoutSeconds`. */
    defaultTimeoutSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 86_400)
      .default(900),
    /**
     * How often pending approvals are checked for expiry (and undelivered decisions re-sent). The expiry time
     * is stored, so a restart never extends a wait; this only bounds how late a time-out is noticed.
     */
    sweepIntervalSeconds: z.number().min(0.05).max(300).default(5),
  })
  .strict();

export type ApprovalsConfig = z.infer<typeof approvalsConfigSchema>;
