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
    /** Secret for deriving callback task tokens; set it so tokens cannot be forged. */
    tokenSecret: z.string().min(1).default('rebound-task-tokens'),
  })
  .strict();

export type WorkflowsConfig = z.infer<typeof workflowsConfigSchema>;
