import { createHash } from 'node:crypto';
import type { StoredEvent } from '../../events/envelope.ts';
import { isReboundError } from '../../errors.ts';
import { INCIDENT_SOURCE } from '../../incidents/events.ts';
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
      // One execution per (event, rule): a re-delivery finds the execution already started. An incident
      // lifecycle event names the incident, so an incident starts a rule's runbook once however often its
      // opening is announced. A replay is a new run on purpose: its name carries the replay's.
      const name = executionName(delivery.rule, delivery.replay, incidentOf(event) ?? event.envelope.id);
      try {
        await engine.startExecution({
          workflow,
          input: input.value,
          name,
          correlationId: event.correlationId,
        });
      } catch (err) {
        if (isReboundError(err) && err.code === 'CONFLICT') return; // started by an earlier delivery
        if (isReboundError(err) && !err.retryable)
          throw new DeliveryError(err.message, false, { cause: err });
        throw err;
      }
    },
  };
}

const MAX_NAME = 80;

/**
 * `<rule>-<replay>-<subject>`, readable, within Step Functions' 80 characters. When it is longer, the end
 * would be cut, and the end is what tells executions apart (UUIDv7 event ids share their first characters
 * for a quarter of a second): a long name keeps its beginning and ends with a digest of the whole, so two
 * subjects never collide into one name (which would read as "already started" and skip a runbook).
 */
export function executionName(rule: string, replay: string | null, subject: string): string {
  const full = [rule, replay, subject]
    .filter(Boolean)
    .join('-')
    .replace(/[^A-Za-z0-9_-]/g, '_');
  if (full.length <= MAX_NAME) return full;
  const digest = createHash('sha256')
    .update(`${rule}\n${replay ?? ''}\n${subject}`)
    .digest('base64url');
  return `${full.slice(0, MAX_NAME - 33)}-${digest.slice(0, 32)}`;
}

/** The incident a lifecycle event (source `rebound.incidents`) is about. */
function incidentOf(event: StoredEvent): string | undefined {
  if (event.envelope.source !== INCIDENT_SOURCE) return undefined;
  const id = event.envelope.detail['incidentId'];
  return typeof id === 'string' && id !== '' ? id : undefined;
}
