/**
 * Execution history events, named and shaped as Step Functions names them (`id`, `previousEventId`,
 * `timestamp`, `type`, `<type>EventDetails`). The engine also keeps a private replay `key` per event.
 */

export const HISTORY_EVENT_TYPES = [
  'ExecutionStarted',
  'ExecutionSucceeded',
  'ExecutionFailed',
  'ExecutionAborted',
  'ExecutionTimedOut',
  'ExecutionRedriven',
  'TaskStateEntered',
  'TaskStateExited',
  'TaskScheduled',
  'TaskStarted',
  'TaskSubmitted',
  'TaskSucceeded',
  'TaskFailed',
  'TaskTimedOut',
  'TaskStateAborted',
  'ChoiceStateEntered',
  'ChoiceStateExited',
  'WaitStateEntered',
  'WaitStateExited',
  'WaitStateAborted',
  'PassStateEntered',
  'PassStateExited',
  'SucceedStateEntered',
  'SucceedStateExited',
  'FailStateEntered',
  'ParallelStateEntered',
  'ParallelStateStarted',
  'ParallelStateSucceeded',
  'ParallelStateFailed',
  'ParallelStateAborted',
  'ParallelStateExited',
  'MapStateEntered',
  'MapStateStarted',
  'MapStateSucceeded',
  'MapStateFailed',
  'MapStateAborted',
  'MapStateExited',
  'MapIterationStarted',
  'MapIterationSucceeded',
  'MapIterationFailed',
  'MapIterationAborted',
] as const;
export type HistoryEventType = (typeof HISTORY_EVENT_TYPES)[number];

export type EventDetails = Record<string, unknown>;

/** One event as the engine stores it: the public fields plus its replay key and redrive epoch. */
export interface StoredEvent {
  readonly id: number;
  readonly previousEventId: number;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  readonly type: HistoryEventType;
  readonly details: EventDetails | undefined;
  /** Deterministic name of the decision this event records; replay finds events by it. */
  readonly key: string;
  /** Redrive count when recorded: failures of earlier epochs are forgotten by a redrive. */
  readonly epoch: number;
  /** For `*StateExited`: the state entered next (undefined when the frame ended). */
  readonly next?: string | undefined;
}

/** The Step Functions shape of one event, as the REST API and `workflow run` print it. */
export interface HistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  readonly timestamp: string;
  readonly type: HistoryEventType;
  readonly [details: string]: unknown;
}

/** The name of the `*EventDetails` field Step Functions uses for an event type. */
export function detailsField(type: HistoryEventType): string | undefined {
  if (type.endsWith('StateEntered')) return 'stateEnteredEventDetails';
  if (type.endsWith('StateExited')) return 'stateExitedEventDetails';
  if (type.startsWith('MapIteration')) return lowerFirst(type) + 'EventDetails';
  switch (type) {
    case 'ParallelStateStarted':
    case 'ParallelStateSucceeded':
    case 'ParallelStateFailed':
    case 'ParallelStateAborted':
    case 'MapStateSucceeded':
    case 'MapStateAborted':
    case 'WaitStateAborted':
    case 'TaskStateAborted':
      return undefined;
    default:
      return lowerFirst(type) + 'EventDetails';
  }
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** Fields Step Functions renders as JSON text inside event details. */
const JSON_TEXT_FIELDS = new Set(['input', 'output', 'parameters']);

function renderDetails(details: EventDetails): EventDetails {
  const out: EventDetails = {};
  for (const [k, v] of Object.entries(details)) {
    if (JSON_TEXT_FIELDS.has(k)) out[k] = JSON.stringify(v ?? null);
    else if (k === 'assignedVariables' && typeof v === 'object' && v !== null) {
      out[k] = Object.fromEntries(Object.entries(v).map(([name, value]) => [name, JSON.stringify(value)]));
    } else out[k] = v;
  }
  return out;
}

export function toHistoryEvent(event: StoredEvent): HistoryEvent {
  const field = detailsField(event.type);
  const base = {
    id: event.id,
    previousEventId: event.previousEventId,
    timestamp: new Date(event.timestamp).toISOString(),
    type: event.type,
  };
  return field === undefined || event.details === undefined
    ? base
    : { ...base, [field]: renderDetails(event.details) };
}

/** Types that record a failure: a redrive forgets them so the failed work runs again. */
export function isFailureEvent(type: HistoryEventType): boolean {
  switch (type) {
    case 'TaskFailed':
    case 'TaskTimedOut':
    case 'ParallelStateFailed':
    case 'MapStateFailed':
    case 'MapIterationFailed':
    case 'MapIterationAborted':
    case 'ExecutionFailed':
    case 'ExecutionTimedOut':
    case 'ExecutionAborted':
      return true;
    default:
      return false;
  }
}
