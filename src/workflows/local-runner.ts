import type { ActionContext, ActionResult, ActionRunner } from '../actions/types.ts';
import { STATES_ERRORS, StatesError } from './errors.ts';
import { actionNameOf } from './task-state.ts';

/** A task handler for `workflow run` and tests: `(input, ctx) => output`. */
export type TaskHandler = (input: unknown, ctx: ActionContext) => unknown;

/**
 * An ActionRunner over a plain map of handlers, keyed by Task resource as written in the definition
 * (`arn:aws:lambda:...:function:x`, `rebound:k8s.restart`) or by action name (`k8s.restart`).
 */
export class HandlerRunner implements ActionRunner {
  private readonly handlers = new Map<string, TaskHandler>();

  constructor(
    handlers: Readonly<Record<string, TaskHandler>>,
    /** Where handlers come from, for the message about a missing one (e.g. the CLI's --task-handlers). */
    private readonly source = 'the handlers given',
  ) {
    for (const [resource, fn] of Object.entries(handlers)) this.handlers.set(actionNameOf(resource), fn);
  }

  has(name: string): boolean {
    return this.handlers.has(name);
  }

  describeMissing(name: string): string {
    const known = [...this.handlers.keys()].sort();
    return (
      `no task handler for '${name}' in ${this.source} (${known.length ? `handlers: ${known.join(', ')}` : 'none given'}); ` +
      `add one keyed by the Task's Resource or its action name`
    );
  }

  async run(name: string, params: unknown, ctx: ActionContext): Promise<ActionResult> {
    const fn = this.handlers.get(name);
    if (!fn) throw new StatesError(STATES_ERRORS.TaskFailed, `no task handler for '${name}'`);
    const output = await fn(params, ctx);
    return { output: output === undefined ? null : output, writes: [] };
  }
}
