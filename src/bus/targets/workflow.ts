import { DeliveryError, type DeliveryItem, type Target } from './target.ts';

/** What the bus needs from the workflow engine: start an execution, idempotently by name. */
export interface WorkflowStarter {
  /** Starts `workflow` with `input`; starting the same `name` twice starts it once. */
  startExecution(request: {
    workflow: string;
    input: unknown;
    name: string;
    correlationId: string;
  }): Promise<{ executionId: string }>;
}

/** Starts a runbook execution per event (the seed's EventBridge → Step Functions). */
export function workflowTarget(workflow: string, starter: () => WorkflowStarter | undefined): Target {
  return {
    async deliver({ delivery, event, input }: DeliveryItem) {
      const engine = starter();
      if (!engine) throw new DeliveryError('the workflow engine is not running in this process', true);
      // One execution per (event, rule): a re-delivery finds the execution already started.
      const name = `${delivery.rule}-${event.envelope.id}`.slice(0, 80);
      await engine.startExecution({ workflow, input: input.value, name, correlationId: event.correlationId });
    },
  };
}
