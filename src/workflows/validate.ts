import { ReboundError } from '../errors.ts';
import { CHOICE_OPERATORS, parseTimestamp } from './choice.ts';
import { CATCHER_FIELDS, RETRIER_FIELDS, STATE_FIELDS, TOP_LEVEL_FIELDS, unknownFields } from './fields.ts';
import { intrinsicSyntaxError, isIntrinsicCall } from './intrinsics.ts';
import { isJsonataExpression } from './jsonata.ts';
import { schemaIssues } from './schema-check.ts';
import { actionNameOf } from './task-state.ts';
import { isJsonObject, type JsonObject, type MachineDefinition, type QueryLanguage } from './types.ts';

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
  for (const { field, message } of unknownFields(definition, 'a state machine', 'JSONPath', TOP_LEVEL_FIELDS))
    issues.push({ path: field, message });
  walk(definition, '', 'JSONPath', options, issues);
  if (issues.length > 0 || options.schema === false) return issues;
  return schemaIssues(definition);
}

const validatedFull = new WeakSet<object>();
const validatedStructure = new WeakSet<object>();

/** Throws ReboundError INVALID_DEFINITION listing the issues, so a bad runbook is never accepted. */
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

type Add = (field: string, message: string) => void;

/** What a field must hold, phrased for one item and for the array of them. */
interface Shape {
  readonly one: string;
  readonly many: string;
}

const MACHINE: Shape = {
  one: 'a state machine (an object with StartAt and States)',
  many: 'state machines (objects with StartAt and States)',
};
const CATCHER: Shape = {
  one: 'a catcher (an object with ErrorEquals and Next)',
  many: 'catchers (objects with ErrorEquals and Next)',
};
const RETRIER: Shape = {
  one: 'a retrier (an object with ErrorEquals)',
  many: 'retriers (objects with ErrorEquals)',
};
const RULE: Shape = { one: 'a Choice rule (an object)', many: 'Choice rules (objects)' };
const STATE_NAME = 'must be the name of a state (a string)';

// The walk reads a definition that nothing has checked yet (the schema check runs after it, or not at all):
// every field is `unknown` until its shape is confirmed, so a malformed definition yields issues, not a throw.
function walk(
  machine: JsonObject,
  prefix: string,
  inherited: QueryLanguage,
  options: ValidateOptions,
  issues: ValidationIssue[],
): void {
  const add: Add = (path, message) => {
    issues.push({ path: prefix + path, message });
  };
  const language = languageOf(machine, inherited, add);
  const states = machine.States;
  if (!isJsonObject(states)) return add('States', 'must be an object of states');
  const names = new Set(Object.keys(states));
  const start = machine.StartAt;
  if (typeof start !== 'string') add('StartAt', STATE_NAME);
  else if (!names.has(start)) add('StartAt', `'${start}' is not a state of this state list`);
  const reachable = reachableStates(states, start);
  for (const [name, state] of Object.entries(states)) {
    const at = `States.${name}`;
    if (!isJsonObject(state)) {
      add(at, 'must be a state (an object with a Type)');
      continue;
    }
    if (typeof state.Type !== 'string' || !STATE_TYPES.has(state.Type)) {
      add(`${at}.Type`, `must be one of ${[...STATE_TYPES].join(', ')}`);
      continue;
    }
    const addHere: Add = (field, message) => add(`${at}.${field}`, message);
    const own = languageOf(state, language, addHere);
    checkFields(state, state.Type, own, addHere);
    checkTargets(state, names, addHere);
    checkTypeSpecific(state, addHere, options);
    if (own === 'JSONPath') checkIntrinsics(state, '', addHere);
    if (!reachable.has(name)) add(at, `the state '${name}' is not reachable from StartAt`);
    for (const [field, nested] of nestedMachines(state, addHere))
      walk(nested, `${prefix}${at}.${field}.`, own, options, issues);
  }
}

/** The query language of a machine or state: its own `QueryLanguage`, or the one it inherits. */
function languageOf(holder: JsonObject, inherited: QueryLanguage, add: Add): QueryLanguage {
  const own = holder.QueryLanguage;
  if (own === undefined) return inherited;
  if (own === 'JSONPath' || own === 'JSONata') return own;
  add('QueryLanguage', 'must be "JSONPath" or "JSONata"');
  return inherited;
}

/** Reports each field the state, its retriers and its catchers do not take in its query language. */
function checkFields(state: JsonObject, type: string, language: QueryLanguage, add: Add): void {
  const fields = STATE_FIELDS[type]!;
  const other = language === 'JSONata' ? 'JSONPath' : 'JSONata';
  const report = (prefix: string, problems: ReturnType<typeof unknownFields>) => {
    for (const { field, message } of problems) add(`${prefix}${field}`, message);
  };
  const allowed = [...fields.both, ...fields[language]];
  report('', unknownFields(state, `a ${type} state`, language, allowed, fields[other]));
  for (const [i, retrier] of objectItems(state.Retry, 'Retry', RETRIER))
    report(`Retry[${i}].`, unknownFields(retrier, 'a retrier', language, RETRIER_FIELDS));
  for (const [i, catcher] of objectItems(state.Catch, 'Catch', CATCHER))
    report(
      `Catch[${i}].`,
      unknownFields(catcher, 'a catcher', language, CATCHER_FIELDS[language], CATCHER_FIELDS[other]),
    );
}

/** The object items of an array field, with their index; reports a non-array field and each non-object item. */
function objectItems(value: unknown, field: string, shape: Shape, add?: Add): [number, JsonObject][] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    add?.(field, `must be an array of ${shape.many}`);
    return [];
  }
  const items: [number, JsonObject][] = [];
  value.forEach((item: unknown, i) => {
    if (isJsonObject(item)) items.push([i, item]);
    else add?.(`${field}[${i}]`, `must be ${shape.one}`);
  });
  return items;
}

/** Branches of a Parallel and the processor of a Map, by the field that holds them. */
function nestedMachines(state: JsonObject, add: Add): [string, JsonObject][] {
  const nested = objectItems(state.Branches, 'Branches', MACHINE, add).map(
    ([i, branch]): [string, JsonObject] => [`Branches[${i}]`, branch],
  );
  for (const field of ['ItemProcessor', 'Iterator'] as const) {
    const processor = state[field];
    if (isJsonObject(processor)) nested.push([field, processor]);
    else if (processor !== undefined) add(field, `must be ${MACHINE.one}`);
  }
  return nested;
}

function reachableStates(states: JsonObject, start: unknown): Set<string> {
  const seen = new Set<string>();
  const queue = typeof start === 'string' ? [start] : [];
  while (queue.length > 0) {
    const name = queue.pop()!;
    // Own names only: `StartAt: "__proto__"` must not find Object.prototype.
    const state = Object.hasOwn(states, name) ? states[name] : undefined;
    if (seen.has(name) || !isJsonObject(state)) continue;
    seen.add(name);
    const targets = [
      state.Next,
      state.Default,
      ...objectItems(state.Catch, 'Catch', CATCHER).map(([, c]) => c.Next),
      ...objectItems(state.Choices, 'Choices', RULE).map(([, c]) => c.Next),
    ];
    for (const t of targets) if (typeof t === 'string') queue.push(t);
  }
  return seen;
}

function checkTargets(state: JsonObject, names: Set<string>, add: Add): void {
  const target = (field: string, next: unknown) => {
    if (typeof next !== 'string') add(field, STATE_NAME);
    else if (!names.has(next)) add(field, `'${next}' is not a state of this state list`);
  };
  if (state.Next !== undefined) target('Next', state.Next);
  if (state.Default !== undefined) target('Default', state.Default);
  for (const [i, c] of objectItems(state.Catch, 'Catch', CATCHER, add)) target(`Catch[${i}].Next`, c.Next);
  objectItems(state.Retry, 'Retry', RETRIER, add);
  for (const [i, c] of objectItems(state.Choices, 'Choices', RULE, add)) target(`Choices[${i}].Next`, c.Next);
  const terminal = state.Type === 'Succeed' || state.Type === 'Fail' || state.Type === 'Choice';
  if (!terminal && state.Next === undefined && state.End !== true)
    add('Next', 'a non-terminal state needs Next or End: true');
  if (state.Next !== undefined && state.End === true) add('End', 'a state cannot have both Next and End');
}

/** Fields that hold nested state machines, which the walk checks on their own. */
const NESTED_MACHINE_FIELDS = new Set(['Branches', 'ItemProcessor', 'Iterator']);

/**
 * Parses every intrinsic call of a JSONPath state (`"key.$"` fields, ErrorPath, CausePath) before a run, as
 * Step Functions does at creation: a malformed one is refused here, naming its field, not mid-incident.
 */
function checkIntrinsics(value: unknown, at: string, add: Add): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkIntrinsics(item, `${at}[${i}]`, add));
    return;
  }
  if (!isJsonObject(value)) return;
  for (const [key, item] of Object.entries(value)) {
    if (at === '' && NESTED_MACHINE_FIELDS.has(key)) continue;
    const field = at === '' ? key : `${at}.${key}`;
    const holdsPath = key.endsWith('.$') || (at === '' && (key === 'ErrorPath' || key === 'CausePath'));
    if (holdsPath && typeof item === 'string' && isIntrinsicCall(item)) {
      const error = intrinsicSyntaxError(item);
      if (error !== undefined) add(field, error);
    } else checkIntrinsics(item, field, add);
  }
}

function checkTypeSpecific(state: JsonObject, add: Add, options: ValidateOptions): void {
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
  if (
    state.Type === 'Wait' &&
    typeof state.Timestamp === 'string' &&
    !isJsonataExpression(state.Timestamp) &&
    parseTimestamp(state.Timestamp) === undefined
  ) {
    // Step Functions refuses it at creation; asl-validator's date-time format lets "2016-12-05 21:29:29Z" by.
    add(
      'Timestamp',
      `${JSON.stringify(state.Timestamp)} is not an RFC 3339 timestamp, e.g. 2026-01-31T18:00:00Z`,
    );
  }
  if (state.Type === 'Choice' && state.QueryLanguage !== 'JSONata') {
    // The shape of Choices itself is reported by checkTargets.
    for (const [i, rule] of objectItems(state.Choices, 'Choices', RULE))
      checkRule(rule, `Choices[${i}]`, add);
  }
}

function checkRule(rule: JsonObject, at: string, add: Add): void {
  for (const field of ['And', 'Or'] as const) {
    if (rule[field] === undefined) continue;
    for (const [i, r] of objectItems(rule[field], `${at}.${field}`, RULE, add))
      checkRule(r, `${at}.${field}[${i}]`, add);
    return;
  }
  if (rule.Not !== undefined) {
    if (isJsonObject(rule.Not)) checkRule(rule.Not, `${at}.Not`, add);
    else add(`${at}.Not`, `must be ${RULE.one}`);
    return;
  }
  if (rule.Condition !== undefined) return;
  const ops = Object.keys(rule).filter((k) => CHOICE_OPERATORS.includes(k));
  if (ops.length !== 1)
    add(
      at,
      `a Choice rule needs exactly one comparison operator (${CHOICE_OPERATORS.slice(0, 4).join(', ')}, ...)`,
    );
}
