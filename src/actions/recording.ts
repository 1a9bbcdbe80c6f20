import { describeError } from '../errors.ts';
import { hideTaskTokens } from '../workflows/hidden-tokens.ts';
import type { ActionContext, ActionResult, ActionRunner, WriteRequest } from './types.ts';

/** What the incident timeline is told about one action run on an incident's behalf. */
export interface ActionRecord {
  readonly incidentId: string;
  readonly correlationId: string | null;
  readonly action: string;
  /** Whether the action changes the cluster (k8s.*, config.set) rather than reading or notifying. */
  readonly mutating: boolean;
  readonly runbook: string | null;
  /** `acted` sent its writes, `shadow` only recorded them, `noop` found nothing to do, `failed` threw. */
  readonly outcome: 'acted' | 'shadow' | 'noop' | 'failed';
  readonly description: string;
  readonly params: unknown;
  readonly output: unknown;
  readonly writes: readonly WriteRequest[];
  readonly error?: string;
}

export interface RecordingRunnerOptions {
  /** Awaited before the action's result is returned, so the timeline is durable when the runbook moves on. */
  readonly record: (entry: ActionRecord) => Promise<void>;
  /** Actions that write their own timeline entries (e.g. `incident.*`) and would be recorded twice. */
  readonly skip?: (name: string) => boolean;
  /** Whether an action changes the cluster (its definition's `mutating`). */
  readonly mutating: (name: string) => boolean;
}

/**
 * An ActionRunner that records every action run for an incident — its parameters, what it changed and the
 * exact write requests, sent or (in shadow mode) only intended — on that incident's timeline. It sits
 * between the guard rails and the registry, so it sees the shadow flag the rails decided.
 */
export function recordingRunner(inner: ActionRunner, options: RecordingRunnerOptions): ActionRunner {
  return {
    has: (name) => inner.has(name),
    async run(name: string, params: unknown, ctx: ActionContext): Promise<ActionResult> {
      if (ctx.incidentId === undefined || options.skip?.(name)) return inner.run(name, params, ctx);
      const base = {
        incidentId: ctx.incidentId,
        correlationId: ctx.correlationId ?? null,
        action: name,
        mutating: options.mutating(name),
        runbook: ctx.runbook ?? null,
        // A task token completes its task: the timeline, which viewers read, never shows it.
        params: ctx.taskToken === undefined ? params : hideTaskTokens(params, [ctx.taskToken]),
      };
      let result: ActionResult;
      try {
        result = await inner.run(name, params, ctx);
      } catch (err) {
        const error = describeError(err);
        await options.record({
          ...base,
          outcome: 'failed',
          description: `${name} failed: ${error}`,
          output: null,
          writes: [],
          error,
        });
        throw err;
      }
      const outcome = ctx.shadow ? 'shadow' : result.noop ? 'noop' : 'acted';
      await options.record({
        ...base,
        outcome,
        description: describe(name, outcome, result.writes),
        output: result.output,
        writes: result.writes,
      });
      return result;
    },
  };
}

function describe(name: string, outcome: ActionRecord['outcome'], writes: readonly WriteRequest[]): string {
  const calls = writes.map((w) => `${w.method} ${w.path}`).join(', ');
  switch (outcome) {
    case 'shadow':
      return writes.length === 0
        ? `${name} in shadow mode: nothing would have been sent`
        : `${name} in shadow mode: would have sent ${calls}`;
    case 'noop':
      return `${name}: nothing to do`;
    default:
      return writes.length === 0 ? `${name} succeeded` : `${name} succeeded: sent ${calls}`;
  }
}
