import { evaluateRule } from './choice.ts';
import { STATES_ERRORS, StatesError, queryError, runtimeError } from './errors.ts';
import { withRetryAndCatch, type Transition } from './attempts.ts';
import { StateVisit, type Finished } from './dataflow.ts';
import type { Frame } from './frame.ts';
import type { HistoryEventType } from './history.ts';
import { evaluateIntrinsic, isIntrinsicCall } from './intrinsics.ts';
import { evaluateExpression, evaluateTemplate, isJsonataExpression } from './jsonata.ts';
import { parseTimestamp } from './choice.ts';
import { runMap, runParallel } from './parallel-map.ts';
import { runTaskState } from './task-state.ts';
import type { Json, MachineDefinition, StateDefinition } from './types.ts';
import { selectPath } from './path.ts';

/** States run back to back without an I/O wait before the loop gives the event loop a turn. */
const STATES_PER_TURN = 256;

/**
 * The interpreter: walks a state list from StartAt to a terminal state. It is deterministic — every visit
 * has a replay key (`frame/State#n`), and a visit already recorded as exited is replayed from its
 * `*StateExited` event (output and assigned variables) instead of being run again.
 */
export async function runMachine(machine: MachineDefinition, input: Json, frame: Frame): Promise<Json> {
  let name = machine.StartAt;
  let data = input;
  let sinceTurn = 0;
  for (;;) {
    // Pass and Choice states settle in microtasks: a loop of them would hold the process (and a stop
    // request) off forever without a macrotask turn now and then.
    if (++sinceTurn >= STATES_PER_TURN) {
      sinceTurn = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Stopped, timed out, or a sibling branch failed: no further state runs (a Pass or Choice loop would
    // otherwise go on emitting events after the abort).
    if (frame.signal.aborted) throw frame.signal.reason;
    const state = machine.States[name];
    if (!state) throw runtimeError(`the state '${name}' does not exist`);
    const visitKey = frame.nextVisit(name);
    const exited = frame.journal.findExit(visitKey);
    let next: string | undefined;
    if (exited) {
      frame.lastEventId = exited.id;
      const assigned = exited.details?.['assignedVariables'] as Record<string, Json> | undefined;
      if (assigned) frame.assign(assigned);
      data = (exited.details?.['output'] ?? null) as Json;
      next = exited.next;
    } else {
      const result = await runState(frame, name, state, visitKey, data);
      data = result.finished.output;
      next = result.next;
    }
    if (next === undefined) return data;
    name = next;
  }
}

async function runState(
  frame: Frame,
  name: string,
  state: StateDefinition,
  visitKey: string,
  input: Json,
): Promise<Transition> {
  const journal = frame.journal;
  const entered = journal.emit(
    frame,
    `${visitKey}@${journal.epoch}:entered`,
    `${state.Type}StateEntered` as HistoryEventType,
    {
      name,
      input,
    },
  );
  const visit = new StateVisit(frame, name, state, visitKey, input, entered.timestamp);
  const result = await dispatch(visit);
  assertWithinPayloadQuota(name, result.finished.output);
  if (result.finished.assigned) frame.assign(result.finished.assigned);
  // Values are stored as JSON values; toHistoryEvent renders them as strings the way Step Functions does.
  const details: Record<string, unknown> = { name, output: result.finished.output };
  if (result.finished.assigned) details['assignedVariables'] = result.finished.assigned;
  journal.emit(
    frame,
    `${visitKey}:exit`,
    `${state.Type}StateExited` as HistoryEventType,
    details,
    result.next,
  );
  return result;
}

/** Step Functions' payload quota: a state's output may hold at most 256 KiB of UTF-8 JSON. */
const PAYLOAD_QUOTA_BYTES = 256 * 1024;

/** Fails the execution with States.DataLimitExceeded (a terminal error) when the output is over quota. */
function assertWithinPayloadQuota(name: string, output: Json): void {
  if (output === null || typeof output === 'number' || typeof output === 'boolean') return;
  // A UTF-8 character takes at most 3 bytes per UTF-16 unit: most strings need no encoding to be cleared.
  if (typeof output === 'string' && (output.length + 2) * 3 <= PAYLOAD_QUOTA_BYTES) return;
  if (Buffer.byteLength(JSON.stringify(output)) <= PAYLOAD_QUOTA_BYTES) return;
  throw new StatesError(
    STATES_ERRORS.DataLimitExceeded,
    `The state/task '${name}' returned a result with a size exceeding the maximum number of bytes service limit.`,
  );
}

function dispatch(visit: StateVisit): Promise<Transition> {
  const type = visit.state.Type;
  switch (type) {
    case 'Pass':
      return runPass(visit);
    case 'Task':
      return withRetryAndCatch(visit, (attempt, key) => runTaskState(visit, attempt, key));
    case 'Choice':
      return runChoice(visit);
    case 'Wait':
      return runWait(visit);
    case 'Succeed':
      return simple(visit, undefined);
    case 'Fail':
      return runFail(visit);
    case 'Parallel':
      return withRetryAndCatch(visit, (attempt, key) => runParallel(visit, attempt, key, runMachine));
    case 'Map':
      return withRetryAndCatch(visit, (attempt, key) => runMap(visit, attempt, key, runMachine));
  }
}

const nextOf = (state: StateDefinition) => (state.End ? undefined : state.Next);

async function runPass(visit: StateVisit): Promise<Transition> {
  if (visit.isJsonata) return { finished: await visit.finish(visit.input), next: nextOf(visit.state) };
  const result = visit.state.Result !== undefined ? visit.state.Result : await visit.effectiveInput();
  return { finished: await visit.finish(result, { resultPath: true }), next: nextOf(visit.state) };
}

/** Succeed, and the tail of Choice and Wait: InputPath → OutputPath, or JSONata Output. */
async function simple(visit: StateVisit, next: string | undefined): Promise<Transition> {
  if (visit.isJsonata) return { finished: await visit.finish(visit.input), next };
  const data = visit.afterInputPath();
  return { finished: await visit.finish(data), next };
}

async function runChoice(visit: StateVisit): Promise<Transition> {
  const { state } = visit;
  const data = visit.isJsonata ? visit.input : visit.afterInputPath();
  for (const rule of state.Choices ?? []) {
    let matched: boolean;
    if (visit.isJsonata) {
      const cond = rule.Condition;
      const value = isJsonataExpression(cond)
        ? await evaluateExpression(cond, visit.jsonataScope(), 'Condition')
        : cond;
      if (typeof value !== 'boolean')
        throw queryError(`${visit.name}: a Choice Condition must evaluate to a boolean`);
      matched = value;
    } else {
      matched = evaluateRule(rule, visit.pathScope(data));
    }
    if (matched) return { finished: await choiceFinish(visit, data, rule), next: rule.Next };
  }
  if (state.Default === undefined) {
    throw new StatesError(
      STATES_ERRORS.NoChoiceMatched,
      `No Choice rule of '${visit.name}' matched and there is no Default`,
    );
  }
  return { finished: await choiceFinish(visit, data, undefined), next: state.Default };
}

async function choiceFinish(
  visit: StateVisit,
  data: Json,
  rule: { Assign?: Json; Output?: Json } | undefined,
): Promise<Finished> {
  const assign = rule?.Assign ?? visit.state.Assign;
  const output = rule?.Output ?? visit.state.Output;
  if (visit.isJsonata) {
    const scope = visit.jsonataScope();
    const assigned = await visit.assignJsonata(assign, scope);
    return {
      output: output === undefined ? visit.input : await evaluateTemplate(output, scope, 'Output'),
      assigned,
    };
  }
  return { output: visit.applyOutputPath(data), assigned: visit.assignJsonPath(assign, data) };
}

async function runWait(visit: StateVisit): Promise<Transition> {
  const { state, frame } = visit;
  const data = visit.isJsonata ? visit.input : visit.afterInputPath();
  let fireAt: number;
  if (state.Seconds !== undefined || state.SecondsPath !== undefined) {
    const seconds =
      state.SecondsPath !== undefined ? visit.pathValue('SecondsPath', data) : await visit.value('Seconds');
    if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0) {
      throw visit.fieldError(
        'Seconds',
        `Wait seconds must be a non-negative integer, got ${JSON.stringify(seconds)}`,
      );
    }
    fireAt = visit.enteredTime + seconds * 1000;
  } else {
    const ts =
      state.TimestampPath !== undefined
        ? visit.pathValue('TimestampPath', data)
        : await visit.value('Timestamp');
    const ms = parseTimestamp(ts);
    if (ms === undefined)
      throw visit.fieldError('Timestamp', `${JSON.stringify(ts)} is not an RFC 3339 timestamp`);
    fireAt = ms;
  }
  if (fireAt > visit.enteredTime) {
    await frame.journal.sleepUntil(
      frame,
      `${visit.visitKey}@${frame.journal.epoch}:wait`,
      fireAt,
      frame.signal,
    );
  }
  return simple(visit, nextOf(state));
}

async function runFail(visit: StateVisit): Promise<Transition> {
  const { state } = visit;
  const read = async (field: 'Error' | 'Cause', pathField: 'ErrorPath' | 'CausePath'): Promise<string> => {
    let value: Json | undefined;
    const path = state[pathField];
    if (typeof path === 'string') {
      value = isIntrinsicCall(path)
        ? evaluateIntrinsic(path, visit.pathScope(visit.input))
        : selectPath(path, visit.pathScope(visit.input), STATES_ERRORS.Runtime, pathField);
    } else value = await visit.value(field);
    if (value !== undefined && typeof value !== 'string')
      throw runtimeError(`${visit.name}: ${pathField ?? field} must be a string`);
    return value ?? '';
  };
  const error = await read('Error', 'ErrorPath');
  const cause = await read('Cause', 'CausePath');
  throw new StatesError(error, cause);
}
