import { z } from 'zod';

/** The `workflows` section of rebound.yaml. */
export const workflowsConfigSchema = z
  .object({
    /** Directory of `*.asl.json` / `*.asl.yaml` runbooks loaded at start. */
    runbooksDir: z.string().default('runbooks'),
    /** Stable id of this worker; a restarted worker with the same id resumes its executions at once. */
    workerId: z.string().min(1).default('rebound-0'),
    /** How long a worker's claim on its executions lasts without renewal. */
    leaseSeconds: z.number().int().min(1).max(3600).default(30),
    /** How often the reaper renews leases and resumes executions of dead workers. */
    reaperIntervalSeconds: z.number().min(0.1).max(600).default(5),
    /**
     * At shutdown, how long the task actions already running may take to finish before the executions are
     * let go (no new action starts meanwhile; at most two thirds of `leaseSeconds`). An action cut off after
     * it wrote leaves its outcome unknown, and its runbook escalates instead of going on after the restart.
     * The whole stop takes up to this plus 10 s (incidents being settled send their pages): keep the sum
     * under the time the process gets before it is killed (Kubernetes' `terminationGracePeriodSeconds`: 30 s).
     */
    stopGraceSeconds: z.number().min(0).max(600).default(15),
    /**
     * Secret for deriving callback task tokens (so they cannot be forged). When unset, the server generates a
     * random one on first start and keeps it in `<dataDir>/task-token.secret`; set it when replicas share work.
     */
    tokenSecret: z.string().min(16, 'at least 16 characters (e.g. `openssl rand -hex 32`)').optional(),
    /**
     * Executions that ended this long ago are deleted with their history (Step Functions keeps a standard
     * workflow's history 90 days). Swept at `incidents.retention.sweepIntervalSeconds`.
     */
    retention: z
      .object({ maxAgeDays: z.number().int().positive().max(36_500).default(90) })
      .strict()
      .prefault({}),
  })
  .strict();

export type WorkflowsConfig = z.infer<typeof workflowsConfigSchema>;
