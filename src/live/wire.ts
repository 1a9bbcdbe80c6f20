import type { ApprovalStore } from '../approvals/port.ts';
import type { DeliveryStore } from '../bus/port.ts';
import type { IncidentStore } from '../incidents/port.ts';
import type { WorkflowStore } from '../workflows/port.ts';
import { LiveNotifier } from './notifier.ts';
import { publishAfter } from './observe.ts';

export interface LiveSources {
  readonly incidents: IncidentStore;
  readonly workflows: WorkflowStore;
  readonly deliveries: DeliveryStore;
  readonly approvals?: ApprovalStore;
}

/**
 * Builds the notifier behind `GET /v1/stream` and hooks it to the writes of the stores whose objects the
 * dashboard shows.
 */
export function createLiveNotifier(sources: LiveSources): LiveNotifier {
  const live = new LiveNotifier();
  publishAfter(live, sources.incidents, 'incident', {
    commit: ([changes]) => changes.map((c) => c.incident.id),
  });
  publishAfter(live, sources.workflows, 'execution', {
    createExecution: ([record]) => [record.id],
    appendEvents: ([executionId]) => [executionId],
    appendBatch: ([requests]) => requests.map((r) => r.executionId),
    redriveExecution: ([executionId]) => [executionId],
  });
  publishAfter(live, sources.deliveries, 'dlq', {
    deadLetter: ([delivery]) => [delivery.target],
    redrive: () => ['*'],
    deleteDeadLetters: () => ['*'],
  });
  if (sources.approvals)
    publishAfter(live, sources.approvals, 'approval', {
      insert: ([record]) => [record.id],
      close: ([id]) => [id],
      abandon: ([id]) => [id],
    });
  return live;
}
