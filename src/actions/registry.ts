import { z } from 'zod';
import { ReboundError } from '../errors.ts';
import type { ActionContext, ActionDefinition, ActionResult, ActionRunner, TargetRef } from './types.ts';

export interface ActionInfo {
  readonly name: string;
  readonly description: string;
  readonly mutating: boolean;
  /** JSON Schema (draft 2020-12) of the parameters as a runbook writes them. */
  readonly params: unknown;
}

/** Actions by name; validates parameters before any action runs. Guard rails wrap this runner. */
export class ActionRegistry implements ActionRunner {
  private readonly actions = new Map<string, ActionDefinition>();
  private readonly registered = new Set<string>();

  constructor(definitions: readonly ActionDefinition[] = []) {
    for (const d of definitions) this.register(d);
  }

  register(definition: ActionDefinition): this {
    if (this.actions.has(definition.name)) {
      throw new ReboundError('INVALID_DEFINITION', `action ${definition.name} is registered twice`);
    }
    this.actions.set(definition.name, definition);
    this.registered.add(definition.name);
    return this;
  }

  /** The registered actions' names, a live view: an action registered later is in it too. */
  get names(): ReadonlySet<string> {
    return this.registered;
  }

  has(name: string): boolean {
    return this.actions.has(name);
  }

  /** The definition, or undefined (for wrappers such as guard rails that look actions up themselves). */
  find(name: string): ActionDefinition | undefined {
    return this.actions.get(name);
  }

  definitions(): ActionDefinition[] {
    return [...this.actions.values()];
  }

  /** The definition, or NOT_FOUND naming the known actions. */
  get(name: string): ActionDefinition {
    const definition = this.actions.get(name);
    if (!definition) {
      throw new ReboundError(
        'NOT_FOUND',
        `unknown action "${name}"; known actions: ${[...this.actions.keys()].sort().join(', ')}`,
      );
    }
    return definition;
  }

  /** Parses parameters with the action's schema; the error names the first offending field. */
  parse(name: string, params: unknown): unknown {
    const parsed = this.get(name).params.safeParse(params ?? {});
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0]!;
    const path = issue.path
      .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
      .join('.')
      .replace(/\.\[/g, '[');
    throw new ReboundError(
      'INVALID_PAYLOAD',
      `invalid parameters for ${name}: ${path ? `${path}: ` : ''}${issue.message}`,
      {
        ...(path ? { path } : {}),
        details: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      },
    );
  }

  /** The target a mutating action would change, for guard rails (undefined for read-only actions). */
  target(name: string, params: unknown): TargetRef | undefined {
    const definition = this.get(name);
    return definition.target?.(this.parse(name, params));
  }

  async run(name: string, params: unknown, ctx: ActionContext): Promise<ActionResult> {
    const definition = this.get(name);
    return definition.run(this.parse(name, params), ctx);
  }

  list(): ActionInfo[] {
    return [...this.actions.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((d) => ({
        name: d.name,
        description: d.description,
        mutating: d.mutating,
        params: z.toJSONSchema(d.params, { io: 'input', unrepresentable: 'any' }),
      }));
  }
}
