import { ReboundError } from '../errors.ts';
import { CHOICE_OPERATORS } from './choice.ts';
import { schemaIssues } from './schema-check.ts';
import { actionNameOf } from './task-state.ts';
import { isJsonObject, type ChoiceRule, type MachineDefinition, type StateDefinition } from './types.ts';

/** One problem with a definition, naming the state and field (`path` is like `States.Restart.Resource`). */
export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
}

export interface ValidateOptions {
  /**
   * Task resources the engine can run: `rebound:<group>.<action>` resources are checked against these action
   * names; any other resource must be listed as is. Omit to skip the check (e.g. for `workflow run` with
   * handlers that are loaded later).
   */
  readonly knownActions?: ReadonlySet<string>;
  /**
   * Also run asl-validator's JSON-schema check (default true). It is slow on a definition it has not seen
   * (schema compilation), so verdicts are cached per definition text; see schema-check.ts.
   */
  readonly schema?: boolean;
}

const STATE_TYPES = new Set(['Pass', 'Task', 'Choice', 'Wait', 'Succeed', 'Fail', 'Parallel', 'Map']);
const REBOUND_RESOURCE = /^rebound:[a-z][A-Za-z0-9-]*\.[A-Za-z][A-Za-z0-9-]*(\.waitForTaskToken)?$/;

/** Checks a definition with asl-validator (schema) and Rebound's own rules; returns every issue found. */
export function validateDefinition(definition: unknown, options: ValidateOptions = {}): ValidationIssue[] {
  if (!isJsonObject(definition))
    return [{ path: '', message: 'a state machine definition must be a JSON object' }];
  const issues: ValidationIssue[] = [];
  walk(definition as unknown as MachineDefinition, '', options, issues);
  if (issues.length > 0 || options.schema === false) return issues;
  return schemaIssues(definition);
}

/** Throws ReboundError INVALID_DEFINITION listing the issues, so a bad runbook is never accepted. */
const validatedFull = new WeakSet<object>();
const validatedStructure = new WeakSet<object>();

export function assertValidDefinition(
  definition: unknown,
  options: ValidateOptions = {},
  name = 'definition',
): MachineDefinition {
  // The same definition object (e.g. started many times by the bus) is checked once per option set.
  const cacheable =
    typeof definition === 'object' && definition !== null && options.knownActions === undefined;
  const cache = options.schema === false ? validatedStructure : validatedFull;
  if (cacheable && (cache.has(definition) || validatedFull.has(definition)))
    return definition as MachineDefinition;
  const issues = validateDefinition(definition, options);
  if (cacheable && issues.length === 0) cache.add(definition);
  if (issues.length > 0) {
    const list = issues.map((i) => `${i.path || '(top level)'}: ${i.message}`).join('; ');
    throw new ReboundError('INVALID_DEFINITION', `${name} is not a valid state machine: ${list}`, {
      details: issues,
      path: issues[0]!.path,
    });
  }
  return definition as MachineDefinition;
}

function walk(
  machine: MachineDefinition,
  prefix: string,
  options: ValidateOptions,
  issues: ValidationIssue[],
): void {
  const add = (path: string, message: string): void => {
    issues.push({ path: prefix + path, message });
  };
  if (!isJsonObject(machine.States)) return add('States', 'must be an object of states');
  const names = new Set(Object.keys(machine.States));
  if (typeof machine.StartAt !== 'string' || !names.has(machine.StartAt)) {
    add('StartAt', `'${String(machine.StartAt)}' is not a state of this state list`);
  }
  const reachable = reachableStates(machine);
  for (const [name, state] of Object.entries(machine.States)) {
    const at = `States.${name}.`;
    if (!isJsonObject(state) || !STATE_TYPES.has(String(state.Type))) {
      add(`States.${name}.Type`, `must be one of ${[...STATE_TYPES].join(', ')}`);
      continue;
    }
    checkTargets(state, names, (field, msg) => add(at + field, msg));
    checkTypeSpecific(state, (field, msg) => add(at + field, msg), options);
    for (const [i, branch] of (state.Branches ?? []).entries())
      walk(branch, `${prefix}${at}Branches[${i}].`, options, issues);
    const processor = state.ItemProcessor ?? state.Iterator;
    if (!reachable.has(name)) add(`States.${name}`, `the state '${name}' is not reachable from StartAt`);
    if (processor)
      walk(
        processor,
        `${prefix}${at}${state.ItemProcessor ? 'ItemProcessor' : 'Iterator'}.`,
        options,
        issues,
      );
  }
}

function reachableStates(machine: MachineDefinition): Set<string> {
  const seen = new Set<string>();
  const queue = [machine.StartAt];
  while (queue.length > 0) {
    const name = queue.pop()!;
    const state = machine.States[name];
    if (seen.has(name) || !isJsonObject(state)) continue;
    seen.add(name);
    const targets = [
      state.Next,
      state.Default,
      ...(state.Catch ?? []).map((c) => c.Next),
      ...(state.Choices ?? []).map((c) => c.Next),
    ];
    for (const t of targets) if (typeof t === 'string') queue.push(t);
  }
  return seen;
}

function checkTargets(
  state: StateDefinition,
  names: Set<string>,
  add: (field: string, msg: string) => void,
): void {
  const target = (field: string, next: unknown) => {
    if (typeof next === 'string' && !names.has(next))
      add(field, `'${next}' is not a state of this state list`);
  };
  target('Next', state.Next);
  target('Default', state.Default);
  state.Catch?.forEach((c, i) => target(`Catch[${i}].Next`, c.Next));
  state.Choices?.forEach((c, i) => target(`Choices[${i}].Next`, c.Next));
  const terminal = state.Type === 'Succeed' || state.Type === 'Fail' || state.Type === 'Choice';
  if (!terminal && state.Next === undefined && state.End !== true)
    add('Next', 'a non-terminal state needs Next or End: true');
  if (state.Next !== undefined && state.End === true) add('End', 'a state cannot have both Next and End');
}

function checkTypeSpecific(
  state: StateDefinition,
  add: (field: string, msg: string) => void,
  options: ValidateOptions,
): void {
  if (state.Type === 'Task') {
    const resource = state.Resource;
    if (typeof resource !== 'string' || resource === '') return add('Resource', 'a Task needs a Resource');
    if (resource.startsWith('rebound:') && !REBOUND_RESOURCE.test(resource)) {
      add('Resource', `'${resource}' must look like rebound:<group>.<action>[.waitForTaskToken]`);
    } else if (options.knownActions && !options.knownActions.has(actionNameOf(resource))) {
      add(
        'Resource',
        `'${resource}' is not a known action (known: ${[...options.knownActions].sort().join(', ') || 'none'})`,
      );
    }
  }
  if (state.Type === 'Map') {
    for (const field of ['ItemReader', 'ResultWriter', 'ItemBatcher'] as const) {
      if (state[field] !== undefined)
        add(field, 'distributed Map is not supported by the embedded engine; use an inline Map');
    }
  }
  if (state.Type === 'Choice' && state.QueryLanguage !== 'JSONata') {
    state.Choices?.forEach((rule, i) => checkRule(rule, `Choices[${i}]`, add));
  }
}

function checkRule(rule: ChoiceRule, at: string, add: (field: string, msg: string) => void): void {
  if (rule.And) return rule.And.forEach((r, i) => checkRule(r, `${at}.And[${i}]`, add));
  if (rule.Or) return rule.Or.forEach((r, i) => checkRule(r, `${at}.Or[${i}]`, add));
  if (rule.Not) return checkRule(rule.Not, `${at}.Not`, add);
  if (rule.Condition !== undefined) return;
  const ops = Object.keys(rule).filter((k) => CHOICE_OPERATORS.includes(k));
  if (ops.length !== 1)
    add(
      at,
      `a Choice rule needs exactly one comparison operator (${CHOICE_OPERATORS.slice(0, 4).join(', ')}, ...)`,
    );
}
