import type { HistoryEvent } from '../types.ts';
import { stateId, type StateList, type StateNode, type StateTree } from './states.ts';

export type StateOutcome = 'succeeded' | 'failed' | 'running' | 'caught' | 'aborted' | 'not-run';

/** What happened in one state over all its visits (a Map's iterations, a loop's rounds). */
export interface StateRun {
  readonly id: string;
  readonly outcome: StateOutcome;
  /** How many times it ran, and how each run ended (not counting failures a redrive ran again). */
  readonly visits: number;
  readonly tally: Readonly<Partial<Record<StateOutcome, number>>>;
  /** Of the latest visit that had them. */
  readonly input?: unknown;
  readonly output?: unknown;
  readonly error?: { error?: string; cause?: string };
  readonly events: HistoryEvent[];
}

/** The worst first: a state shows the most telling outcome among its visits. */
const PRECEDENCE: readonly StateOutcome[] = ['running', 'failed', 'aborted', 'caught', 'succeeded'];
const FAILURE = /(Failed|TimedOut)$/;
/** Events that begin another attempt of a state (after a Retry). */
const ATTEMPT = new Set(['TaskScheduled', 'ParallelStateStarted', 'MapStateStarted']);

/**
 * A run of one state list: the runbook, one Parallel branch or one Map iteration. The engine chains each
 * list's events by `previousEventId`, starting from the event of the Parallel or Map that opened it.
 */
interface Frame {
  readonly list: StateList;
  /** The Parallel or Map visit this list runs inside. */
  readonly container?: Visit;
}

interface Visit {
  readonly node: StateNode;
  readonly frame: Frame;
  /** Redrives before it: a redrive forgets what failed before and runs it again, as a new visit. */
  readonly epoch: number;
  /** `caught`: it failed, and left all the same (a Catch took over) without trying again first. */
  last: 'entered' | 'exited' | 'failed' | 'caught' | 'aborted';
  input?: unknown;
  output?: unknown;
  error?: { error?: string; cause?: string };
}

/** Where an event belongs: the list run it was written in, and the state visit (if any) it is part of. */
interface Place {
  readonly frame: Frame;
  readonly visit?: Visit;
}

function details(event: HistoryEvent): Record<string, unknown> | undefined {
  const key = Object.keys(event).find((k) => k.endsWith('EventDetails'));
  return key ? (event[key] as Record<string, unknown>) : undefined;
}

function parse(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function visitOutcome(visit: Visit, executionStatus: string): StateOutcome {
  switch (visit.last) {
    case 'exited':
      return 'succeeded'; // after retries, if it had errors
    case 'failed':
    case 'caught':
    case 'aborted':
      return visit.last;
    case 'entered': {
      // Entered and never left: still at it, or cut short when its Parallel or Map (or the execution) ended.
      const container = visit.frame.container;
      const containerDone = container !== undefined && container.last !== 'entered';
      if (executionStatus === 'RUNNING' && !containerDone) return 'running';
      if (container || executionStatus === 'ABORTED') return 'aborted';
      return executionStatus === 'SUCCEEDED' ? 'succeeded' : 'failed';
    }
  }
}

/** What an event says about the visit it belongs to. */
function advance(visit: Visit, event: HistoryEvent): void {
  // The execution's own end speaks only for a state still in progress (stopped, timed out in it).
  if (event.type.startsWith('Execution') && visit.last !== 'entered') return;
  const d = details(event);
  if (event.type.endsWith('StateEntered')) {
    visit.input = parse(d?.['input']);
    if (event.type === 'FailStateEntered') {
      visit.last = 'failed';
      const { Error: error, Cause: cause } = visit.node.state;
      visit.error = { error: error ?? 'Fail state', ...(cause === undefined ? {} : { cause }) };
    }
  } else if (event.type.endsWith('StateExited')) {
    visit.output = parse(d?.['output']);
    visit.last = visit.last === 'failed' ? 'caught' : 'exited';
  } else if (ATTEMPT.has(event.type)) {
    if (visit.last === 'failed') visit.last = 'entered'; // retried
  } else if (event.type.endsWith('Aborted')) {
    visit.last = 'aborted';
  } else if (FAILURE.test(event.type)) {
    if (d?.['error'] !== undefined || d?.['cause'] !== undefined)
      visit.error = { error: d['error'] as string | undefined, cause: d['cause'] as string | undefined };
    visit.last = 'failed';
  }
}

/**
 * Every visit of every state, nested ones included, and the events of each state. Events without a state
 * name (TaskScheduled, TaskFailed…) belong to the visit their `previousEventId` chain leads back to; the
 * first event of a Parallel branch or Map iteration chains to the Parallel's or Map's own event, which is how
 * a state is known to run inside it (and to stop when it ends).
 */
function replay(tree: StateTree, history: readonly HistoryEvent[]) {
  const root: Frame = { list: tree.root };
  const byId = new Map(history.map((e) => [e.id, e]));
  const places = new Map<number, Place>();
  const visits: Visit[] = [];
  const eventsOf = new Map<string, HistoryEvent[]>();
  let epoch = 0;
  const record = (visit: Visit | undefined, event: HistoryEvent) => {
    if (!visit) return;
    const list = eventsOf.get(visit.node.id) ?? [];
    if (list.push(event) === 1) eventsOf.set(visit.node.id, list);
  };
  /** The branch of `parallel` that begins with the state `name` (names are unique in a valid definition). */
  const branch = (parallel: Visit, name: string | undefined): Frame | undefined => {
    const list = parallel.node.lists.find((l) => l.definition.StartAt === name);
    return list && { list, container: parallel };
  };
  const place = (event: HistoryEvent): Place => {
    const previous = byId.get(event.previousEventId);
    const before = previous && previous.id < event.id ? places.get(previous.id) : undefined;
    const frame = before?.frame ?? root;
    if (event.type.startsWith('Execution')) return { frame: root, visit: before?.visit };
    if (event.type === 'MapIterationStarted') {
      // The first event of an iteration: its list is the Map's item processor.
      const list = before?.visit?.node.lists[0];
      return list ? { frame: { list, container: before?.visit } } : { frame };
    }
    if (!event.type.endsWith('StateEntered')) return { frame, visit: before?.visit };
    const name = details(event)?.['name'] as string | undefined;
    const into =
      (previous?.type === 'ParallelStateStarted' && before?.visit && branch(before.visit, name)) || frame;
    const node = name === undefined ? undefined : tree.byId.get(stateId(into.list.id, name));
    if (!node) return { frame: into };
    const visit: Visit = { node, frame: into, epoch, last: 'entered' };
    visits.push(visit);
    return { frame: into, visit };
  };

  for (const event of [...history].sort((a, b) => a.id - b.id)) {
    if (event.type === 'ExecutionRedriven') epoch += 1;
    const at = place(event);
    places.set(event.id, at);
    if (!event.type.startsWith('MapIteration')) {
      record(at.visit, event);
      if (at.visit) advance(at.visit, event);
      continue;
    }
    // Listed on the Map; an iteration that failed or was aborted says so of the state it stopped in.
    const map = at.frame.container;
    record(map, event);
    if (at.visit && at.visit !== map && /(Failed|Aborted)$/.test(event.type)) {
      record(at.visit, event);
      if (at.visit.last === 'entered') at.visit.last = event.type.endsWith('Aborted') ? 'aborted' : 'failed';
    }
  }
  return { visits, eventsOf };
}

/**
 * What happened in each state, nested ones included, from the execution history. A state visited more than
 * once (a Map's iterations, a loop's rounds) shows the most telling outcome of its visits: one node per
 * state, however many items a Map had.
 */
export function stateRuns(
  tree: StateTree,
  history: readonly HistoryEvent[],
  executionStatus: string,
): Map<string, StateRun> {
  const { visits, eventsOf } = replay(tree, history);
  const byNode = new Map<string, Visit[]>();
  for (const v of visits) {
    const mine = byNode.get(v.node.id) ?? [];
    if (mine.push(v) === 1) byNode.set(v.node.id, mine);
  }
  const out = new Map<string, StateRun>();
  for (const [id, all] of byNode) {
    // What failed (or stopped) before a redrive that ran the state again no longer says how it went.
    const newest = all.reduce((max, v) => Math.max(max, v.epoch), 0);
    const tally: Partial<Record<StateOutcome, number>> = {};
    const mine = all.filter((v) => {
      const o = visitOutcome(v, executionStatus);
      if (v.epoch < newest && o !== 'succeeded' && o !== 'caught') return false;
      tally[o] = (tally[o] ?? 0) + 1;
      return true;
    });
    const latest = <K extends 'input' | 'output' | 'error'>(key: K) =>
      mine.findLast((v) => v[key] !== undefined)?.[key];
    out.set(id, {
      id,
      outcome: PRECEDENCE.find((o) => tally[o]) ?? 'succeeded',
      visits: mine.length,
      tally,
      input: latest('input'),
      output: latest('output'),
      error: latest('error'),
      events: eventsOf.get(id) ?? [],
    });
  }
  return out;
}
