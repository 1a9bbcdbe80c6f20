import type { Cursor, Journal } from './journal.ts';
import type { Json, QueryLanguage } from './types.ts';

/**
 * A frame runs one state list: the machine itself, a Parallel branch, or a Map iteration. It has its own
 * variable scope (reads fall through to the enclosing frame's), its own event chain and abort signal.
 */
export class Frame implements Cursor {
  lastEventId: number;
  private readonly visits = new Map<string, number>();
  private readonly vars = new Map<string, Json>();

  constructor(
    readonly journal: Journal,
    readonly path: string,
    readonly language: QueryLanguage,
    readonly signal: AbortSignal,
    readonly parent: Frame | undefined,
    lastEventId: number,
  ) {
    this.lastEventId = lastEventId;
  }

  child(path: string, language: QueryLanguage, signal: AbortSignal): Frame {
    return new Frame(this.journal, path, language, signal, this, this.lastEventId);
  }

  /** The replay key of the next visit to `stateName` in this frame (`path/State#n`). */
  nextVisit(stateName: string): string {
    const n = (this.visits.get(stateName) ?? 0) + 1;
    this.visits.set(stateName, n);
    return `${this.path}/${stateName}#${n}`;
  }

  variable(name: string): Json | undefined {
    if (this.vars.has(name)) return this.vars.get(name);
    return this.parent?.variable(name);
  }

  /** Every variable visible here, inner scopes shadowing outer ones (for JSONata bindings). */
  variables(): Record<string, Json> {
    const outer = this.parent?.variables() ?? {};
    return this.vars.size === 0 ? outer : { ...outer, ...Object.fromEntries(this.vars) };
  }

  assign(values: Readonly<Record<string, Json>>): void {
    for (const [k, v] of Object.entries(values)) this.vars.set(k, v);
  }
}

/** The context object (`$$` in JSONPath, `$states.context` in JSONata) for one state. */
export function contextObject(
  frame: Frame,
  state: { name: string; enteredTime: number; retryCount?: number },
  extra: { taskToken?: string; mapItem?: { index: number; value: Json } } = {},
): Json {
  const j = frame.journal;
  const ctx: Record<string, Json> = {
    Execution: {
      Id: j.executionId,
      Input: j.input,
      Name: j.executionName,
      StartTime: new Date(j.startTime).toISOString(),
      RoleArn: '', // no IAM role runs a Rebound execution; the field is there, as in Step Functions
      RedriveCount: j.epoch,
    },
    StateMachine: { Id: j.machineId, Name: j.machineName },
    State: {
      EnteredTime: new Date(state.enteredTime).toISOString(),
      Name: state.name,
      ...(state.retryCount === undefined ? {} : { RetryCount: state.retryCount }),
    },
  };
  if (extra.taskToken !== undefined) ctx['Task'] = { Token: extra.taskToken };
  if (extra.mapItem !== undefined)
    ctx['Map'] = { Item: { Index: extra.mapItem.index, Value: extra.mapItem.value } };
  return ctx;
}
