import { setMaxListeners } from 'node:events';
import { STATES_ERRORS, StatesError } from './errors.ts';
import type { Finished, StateVisit } from './dataflow.ts';
import type { Frame } from './frame.ts';
import { evaluateTemplate } from './jsonata.ts';
import { payloadTemplate } from './jsonpath.ts';
import { selectPath } from './path.ts';
import type { Json, MachineDefinition, StateDefinition } from './types.ts';

export type RunMachine = (machine: MachineDefinition, input: Json, frame: Frame) => Promise<Json>;

/** Why a branch stopped early: a sibling failed. Never leaves the Parallel/Map state that raised it. */
export class BranchAborted extends Error {
  constructor() {
    super('a sibling branch failed');
    this.name = 'BranchAborted';
  }
}

/**
 * Runs children concurrently (at most `limit` at a time, in index order). The first failure that `onError`
 * declares fatal aborts the siblings still running; their in-flight tasks see the abort signal.
 * Non-ASL errors (the execution being stopped) win over ASL errors and are rethrown as they are.
 */
async function runChildren(
  count: number,
  limit: number,
  frame: Frame,
  child: (index: number, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const ctl = new AbortController();
  const signal = AbortSignal.any([frame.signal, ctl.signal]);
  let nextIndex = 0;
  let firstFailure: StatesError | undefined;
  let fatal: unknown;
  const worker = async () => {
    while (nextIndex < count && !signal.aborted) {
      const index = nextIndex++;
      try {
        await child(index, signal);
      } catch (err) {
        if (err instanceof StatesError) {
          firstFailure ??= err;
          ctl.abort(new BranchAborted());
        } else if (!(err instanceof BranchAborted)) {
          fatal ??= err;
          ctl.abort(new BranchAborted());
        }
      }
    }
  };
  const workers = Math.max(1, Math.min(limit > 0 ? limit : count, count));
  // Each child in flight listens here (its task attempt or wait): one listener per worker is by design.
  // Node's leak warning stays on above that.
  setMaxListeners(workers + 10, signal);
  await Promise.all(Array.from({ length: workers }, worker));
  if (fatal !== undefined) throw fatal;
  if (frame.signal.aborted) throw frame.signal.reason;
  if (firstFailure) throw firstFailure;
}

function recordedFailure(visit: StateVisit, attemptKey: string): void {
  const failed = visit.frame.journal.find(`${attemptKey}:failed`);
  if (failed)
    throw new StatesError(String(failed.details?.['error'] ?? ''), String(failed.details?.['cause'] ?? ''));
}

function fail(
  visit: StateVisit,
  attemptKey: string,
  type: 'ParallelStateFailed' | 'MapStateFailed',
  err: StatesError,
): never {
  visit.frame.journal.emit(visit.frame, `${attemptKey}:failed`, type, {
    error: err.error,
    cause: err.cause_,
  });
  throw err;
}

export async function runParallel(
  visit: StateVisit,
  attempt: number,
  attemptKey: string,
  run: RunMachine,
): Promise<Finished> {
  recordedFailure(visit, attemptKey);
  const { frame, state } = visit;
  const input = await visit.effectiveInput();
  frame.journal.emit(frame, `${attemptKey}:started`, 'ParallelStateStarted');
  const branches = state.Branches ?? [];
  const outputs: Json[] = new Array<Json>(branches.length).fill(null);
  try {
    await runChildren(branches.length, 0, frame, async (i, signal) => {
      const branch = branches[i]!;
      const child = frame.child(
        `${visit.visitKey}:a${attempt}/b${i}`,
        branch.QueryLanguage ?? visit.language,
        signal,
      );
      outputs[i] = await run(branch, input, child);
    });
  } catch (err) {
    if (err instanceof StatesError) fail(visit, attemptKey, 'ParallelStateFailed', err);
    throw err;
  }
  frame.journal.emit(frame, `${attemptKey}:succeeded`, 'ParallelStateSucceeded');
  return visit.finish(outputs, { resultSelector: true, resultPath: true });
}

interface MapSettings {
  readonly items: Json[];
  readonly maxConcurrency: number;
  readonly toleratedCount: number | undefined;
  readonly toleratedPercentage: number | undefined;
}

async function numberField(
  visit: StateVisit,
  field: keyof StateDefinition,
  pathField: keyof StateDefinition,
  data: Json,
): Promise<number | undefined> {
  const v =
    visit.state[pathField] !== undefined ? visit.pathValue(pathField, data) : await visit.value(field);
  if (v === undefined) return undefined;
  // Step Functions takes a numeric string here too (a variable assigned "1", say).
  const n = typeof v === 'string' && NUMERIC.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || n < 0)
    throw visit.fieldError(field, `${field} must be a non-negative number, got ${JSON.stringify(v)}`);
  return n;
}

const NUMERIC = /^\d+(\.\d+)?$/;

async function mapSettings(visit: StateVisit, data: Json): Promise<MapSettings> {
  const { state } = visit;
  let items: Json | undefined;
  if (visit.isJsonata) items = state.Items === undefined ? visit.input : await visit.value('Items');
  else
    items =
      state.ItemsPath === undefined
        ? data
        : selectPath(state.ItemsPath, visit.pathScope(data), STATES_ERRORS.Runtime, 'ItemsPath');
  if (!Array.isArray(items))
    throw visit.fieldError(
      'Items',
      `the items to iterate over must be a JSON array, got ${JSON.stringify(items)}`,
    );
  return {
    items,
    maxConcurrency: (await numberField(visit, 'MaxConcurrency', 'MaxConcurrencyPath', data)) ?? 0,
    toleratedCount: await numberField(visit, 'ToleratedFailureCount', 'ToleratedFailureCountPath', data),
    toleratedPercentage: await numberField(
      visit,
      'ToleratedFailurePercentage',
      'ToleratedFailurePercentagePath',
      data,
    ),
  };
}

async function itemInput(visit: StateVisit, data: Json, index: number, value: Json): Promise<Json> {
  const selector = visit.state.ItemSelector ?? (visit.isJsonata ? undefined : visit.state.Parameters);
  if (selector === undefined) return value;
  const mapItem = { index, value };
  if (visit.isJsonata) return evaluateTemplate(selector, visit.jsonataScope({}, { mapItem }), 'ItemSelector');
  return payloadTemplate(selector, visit.pathScope(data, { mapItem }), 'ItemSelector');
}

export async function runMap(
  visit: StateVisit,
  attempt: number,
  attemptKey: string,
  run: RunMachine,
): Promise<Finished> {
  recordedFailure(visit, attemptKey);
  const { frame, state } = visit;
  const journal = frame.journal;
  const data = visit.isJsonata ? visit.input : visit.afterInputPath();
  const settings = await mapSettings(visit, data);
  const processor = (state.ItemProcessor ?? state.Iterator)!;
  const n = settings.items.length;
  const tolerant = settings.toleratedCount !== undefined || settings.toleratedPercentage !== undefined;
  journal.emit(frame, `${attemptKey}:started`, 'MapStateStarted', { length: n });
  const outputs: Json[] = new Array<Json>(n).fill(null);
  let failures = 0;
  const exceeded = () =>
    (settings.toleratedCount !== undefined && failures > settings.toleratedCount) ||
    (settings.toleratedPercentage !== undefined && (failures / n) * 100 > settings.toleratedPercentage);
  try {
    await runChildren(n, settings.maxConcurrency, frame, async (i, signal) => {
      const iterKey = `${visit.visitKey}:a${attempt}/i${i}`;
      const details = { name: visit.name, index: i };
      const input = await itemInput(visit, data, i, settings.items[i]!);
      const child = frame.child(iterKey, processor.QueryLanguage ?? visit.language, signal);
      journal.emit(child, `${iterKey}:started`, 'MapIterationStarted', details);
      try {
        outputs[i] = await run(processor, input, child);
        journal.emit(child, `${iterKey}:succeeded`, 'MapIterationSucceeded', details);
      } catch (err) {
        if (err instanceof BranchAborted)
          journal.emit(child, `${iterKey}@${journal.epoch}:aborted`, 'MapIterationAborted', details);
        if (!(err instanceof StatesError)) throw err;
        journal.emit(child, `${iterKey}@${journal.epoch}:failed`, 'MapIterationFailed', details);
        failures += 1;
        outputs[i] = err.toOutput();
        if (!tolerant) throw err;
        if (exceeded()) {
          throw new StatesError(
            STATES_ERRORS.ExceedToleratedFailureThreshold,
            `${failures} of ${n} iterations failed, more than the tolerated failure threshold`,
          );
        }
      }
    });
  } catch (err) {
    if (err instanceof StatesError) fail(visit, attemptKey, 'MapStateFailed', err);
    throw err;
  }
  journal.emit(frame, `${attemptKey}:succeeded`, 'MapStateSucceeded');
  return visit.finish(outputs, { resultSelector: true, resultPath: true });
}
