import { z } from 'zod';
import { canTransition } from '../../incidents/lifecycle.ts';
import type { ActionDefinition } from '../types.ts';
import type { IncidentActionDeps } from './deps.ts';
import { actorOf } from './message.ts';

export const noteParams = z
  .object({
    incidentId: z.string().min(1),
    description: z.string().min(1).max(4000),
    /**
     * Also move the incident: a runbook marks `remediating` before it acts, `verifying` before it checks, and
     * `resolved` when the alerts resolved before it acted (the incident does not auto-resolve under a runbook).
     */
    status: z.enum(['remediating', 'verifying', 'resolved']).optional(),
  })
  .strict();
export type NoteParams = z.infer<typeof noteParams>;

export interface NoteOutput {
  readonly incidentId: string;
  readonly status: string;
}

/** `incident.note`: a timeline entry from the runbook, optionally with a move to remediating/verifying. */
export function noteAction(deps: IncidentActionDeps): ActionDefinition<NoteParams, NoteOutput> {
  return {
    name: 'incident.note',
    description: 'Add an entry to the incident timeline (and optionally mark it remediating or verifying)',
    mutating: false,
    params: noteParams,
    async run(params, ctx) {
      const actor = actorOf(ctx);
      const { incident } = await deps.incidents.get(params.incidentId);
      // A move the lifecycle does not allow (e.g. the incident resolved meanwhile) still leaves the note.
      if (
        params.status &&
        params.status !== incident.status &&
        canTransition(incident.status, params.status)
      ) {
        const moved = await deps.incidents.setStatus(incident.id, params.status, {
          actor,
          kind: 'status.changed',
          description: params.description,
        });
        return { output: { incidentId: incident.id, status: moved.status }, writes: [] };
      }
      await deps.incidents.record(incident.id, { actor, kind: 'comment', description: params.description });
      return { output: { incidentId: incident.id, status: incident.status }, writes: [] };
    },
  };
}
