import { queryError, runtimeError, type StatesError } from './errors.ts';
import { contextObject, type Frame } from './frame.ts';
import { evaluateExpression, evaluateTemplate, isJsonataExpression, type JsonataScope } from './jsonata.ts';
import { applyResultPath, payloadTemplate } from './jsonpath.ts';
import { selectPath, type PathScope } from './path.ts';
import { STATES_ERRORS } from './errors.ts';
import {
  isJsonObject,
  type Catcher,
  type Json,
  type JsonObject,
  type QueryLanguage,
  type StateDefinition,
} from './types.ts';

export interface Finished {
  readonly output: Json;
  readonly assigned: Record<string, Json> | undefined;
}

/** The states that can retry: only their context object has `State.RetryCount`. */
const RETRYING = new Set(['Task', 'Parallel', 'Map']);

interface ContextExtra {
  taskToken?: string;
  mapItem?: { index: number; value: Json };
}

/**
 * One visit of one state: the data flow of both query languages around whatever the state does.
 * JSONPath: InputPath → Parameters → (work) → ResultSelector → ResultPath → OutputPath, Assign from the result.
 * JSONata: Arguments → (work) → Output, Assign from `$states`.
 */
export class StateVisit {
  retryCount = 0;
  readonly language: QueryLanguage;

  constructor(
    readonly frame: Frame,
    readonly name: string,
    readonly state: StateDefinition,
    readonly visitKey: string,
    readonly input: Json,
    readonly enteredTime: number,
  ) {
    this.language = state.QueryLanguage ?? frame.language;
  }

  get isJsonata(): boolean {
    return this.language === 'JSONata';
  }

  /**
   * A field's value is of the wrong kind: `States.QueryEvaluationError` when a JSONata expression computed it
   * (as Step Functions raises it), `States.Runtime` otherwise (a path selected it).
   */
  fieldError(field: keyof StateDefinition, message: string): StatesError {
    const computed = this.isJsonata && isJsonataExpression(this.state[field]);
    return (computed ? queryError : runtimeError)(`${this.name}: ${message}`);
  }

  context(extra: ContextExtra = {}): Json {
    return contextObject(
      this.frame,
      {
        name: this.name,
        enteredTime: this.enteredTime,
        // Only the states that can retry have a RetryCount, as in Step Functions.
        ...(RETRYING.has(this.state.Type) ? { retryCount: this.retryCount } : {}),
      },
      extra,
    );
  }

  random(suffix: string): () => number {
    return this.frame.journal.random(`${this.visitKey}:${this.retryCount}:${suffix}`);
  }

  pathScope(data: Json, extra: ContextExtra = {}): PathScope {
    return new VisitPathScope(this, data, extra);
  }

  jsonataScope(states: JsonObject = {}, extra: ContextExtra = {}): JsonataScope {
    return {
      states: { input: this.input, context: this.context(extra), ...states },
      variables: this.frame.variables(),
      random: lazyRandom(() => this.random('jsonata')),
    };
  }

  /** InputPath (JSONPath); `null` gives `{}`. */
  afterInputPath(): Json {
    const p = this.state.InputPath;
    if (p === null) return {};
    if (p === undefined || this.isJsonata) return this.input;
    return selectPath(p, this.pathScope(this.input), STATES_ERRORS.Runtime, 'InputPath');
  }

  /** What the state works on: InputPath + Parameters, or JSONata Arguments. */
  async effectiveInput(extra: ContextExtra = {}): Promise<Json> {
    if (this.isJsonata) {
      const args = this.state.Arguments;
      return args === undefined
        ? this.input
        : evaluateTemplate(args, this.jsonataScope({}, extra), 'Arguments');
    }
    const afterInput = this.afterInputPath();
    const params = this.state.Parameters;
    return params === undefined
      ? afterInput
      : payloadTemplate(params, this.pathScope(afterInput, extra), 'Parameters');
  }

  /** Evaluates a JSONata-or-literal field that must produce a value of the given kind. */
  async value(field: keyof StateDefinition, extraStates: JsonObject = {}): Promise<Json | undefined> {
    const v = this.state[field] as Json | undefined;
    if (v === undefined) return undefined;
    return isJsonataExpression(v) ? evaluateExpression(v, this.jsonataScope(extraStates), field) : v;
  }

  /** Reads a JSONPath `*Path` field of the state input. */
  pathValue(field: keyof StateDefinition, data: Json = this.input): Json | undefined {
    const p = this.state[field];
    if (typeof p !== 'string') return undefined;
    return selectPath(p, this.pathScope(data), STATES_ERRORS.Runtime, field);
  }

  /** Turns the state's result into its output (and the variables it assigns). */
  async finish(
    result: Json,
    opts: { resultSelector?: boolean; resultPath?: boolean } = {},
  ): Promise<Finished> {
    if (this.isJsonata) {
      const scope = this.jsonataScope({ result });
      const assigned = await this.assignJsonata(this.state.Assign, scope);
      const out = this.state.Output;
      return { output: out === undefined ? result : await evaluateTemplate(out, scope, 'Output'), assigned };
    }
    let selected = result;
    if (opts.resultSelector && this.state.ResultSelector !== undefined) {
      selected = payloadTemplate(this.state.ResultSelector, this.pathScope(result), 'ResultSelector');
    }
    const assigned = this.assignJsonPath(this.state.Assign, selected);
    const merged = opts.resultPath ? applyResultPath(this.input, this.state.ResultPath, selected) : selected;
    return { output: this.applyOutputPath(merged), assigned };
  }

  /** The output of a state that caught an error with `catcher`. */
  async caught(catcher: Catcher, errorOutput: { Error: string; Cause: string }): Promise<Finished> {
    if (this.isJsonata) {
      const scope = this.jsonataScope({ errorOutput });
      const assigned = await this.assignJsonata(catcher.Assign, scope);
      const out = catcher.Output;
      return {
        output: out === undefined ? errorOutput : await evaluateTemplate(out, scope, 'Catch.Output'),
        assigned,
      };
    }
    const assigned = this.assignJsonPath(catcher.Assign, errorOutput);
    return { output: applyResultPath(this.input, catcher.ResultPath, errorOutput), assigned };
  }

  applyOutputPath(data: Json): Json {
    const p = this.state.OutputPath;
    if (p === null) return {};
    if (p === undefined) return data;
    return selectPath(p, this.pathScope(data), STATES_ERRORS.Runtime, 'OutputPath');
  }

  assignJsonPath(assign: Json | undefined, data: Json): Record<string, Json> | undefined {
    if (assign === undefined) return undefined;
    if (!isJsonObject(assign)) throw runtimeError(`${this.name}: Assign must be a JSON object`);
    return payloadTemplate(assign, this.pathScope(data), 'Assign') as Record<string, Json>;
  }

  async assignJsonata(
    assign: Json | undefined,
    scope: JsonataScope,
  ): Promise<Record<string, Json> | undefined> {
    if (assign === undefined) return undefined;
    if (!isJsonObject(assign)) throw runtimeError(`${this.name}: Assign must be a JSON object`);
    return (await evaluateTemplate(assign, scope, 'Assign')) as Record<string, Json>;
  }
}

/** A visit's JSONPath scope: the context object and the seeded generator are built only when asked for. */
class VisitPathScope implements PathScope {
  private contextObject: Json | undefined;
  private generator: (() => number) | undefined;

  constructor(
    private readonly visit: StateVisit,
    readonly data: Json,
    private readonly extra: ContextExtra,
  ) {}

  get context(): Json {
    return (this.contextObject ??= this.visit.context(this.extra));
  }

  variable(name: string): Json | undefined {
    return this.visit.frame.variable(name);
  }

  random(): number {
    return (this.generator ??= this.visit.random('path'))();
  }
}

function lazyRandom(make: () => () => number): () => number {
  let random: (() => number) | undefined;
  return () => (random ??= make())();
}
