import type { HistoryEventType, StoredEvent, EventDetails } from './history.ts';
import type { Json } from './types.ts';

/**
 * What the interpreter needs from the engine. The interpreter is deterministic: given the same definition
 * and the same recorded history, it makes the same decisions with the same keys. Everything that is not
 * deterministic (the clock, task outcomes, timers) goes through this journal, which answers from history
 * when the decision was already recorded and otherwise performs it and records it.
 */
export interface Journal {
  readonly executionId: string;
  readonly executionName: string;
  readonly machineId: string;
  readonly machineName: string;
  readonly startTime: number;
  readonly input: Json;
  /** Redrive count: keys of attempts carry it so a redrive re-runs what failed. */
  readonly epoch: number;
  /** Records an event (or returns the already-recorded one with this key). */
  emit(
    cursor: Cursor,
    key: string,
    type: HistoryEventType,
    details?: EventDetails,
    next?: string,
  ): StoredEvent;
  /** The event recorded under `key` in this epoch (failures of earlier epochs are forgotten). */
  find(key: string): StoredEvent | undefined;
  /** How the state visit `visitKey` exited successfully in any epoch, if it did. */
  findExit(visitKey: string): StoredEvent | undefined;
  /** Runs a task (or returns its recorded outcome). */
  runTask(cursor: Cursor, request: TaskRequest): Promise<TaskOutcome>;
  /**
   * Sleeps until `fireAt` (ms since epoch). The first fireAt recorded under `key` wins, so a replay sleeps
   * until the original time. Durable: the timer fires after a restart, late but never lost.
   */
  sleepUntil(cursor: Cursor, key: string, fireAt: number, signal: AbortSignal): Promise<void>;
  /** The clock, read only for decisions made for the first time (replays use recorded times). */
  now(): number;
  /** Seeded generator for the decision named `key`. */
  random(key: string): () => number;
  /** Derives a callback token for a task attempt. */
  taskToken(idempotencyKey: string): string;
}

/** Where a frame's event chain currently ends: `previousEventId` of the next event. */
export interface Cursor {
  lastEventId: number;
}

export interface TaskRequest {
  /** Replay key of this attempt's outcome. */
  readonly key: string;
  readonly stateName: string;
  readonly resource: string;
  readonly parameters: Json;
  readonly idempotencyKey: string;
  readonly taskToken: string | undefined;
  readonly timeoutSeconds: number | undefined;
  readonly heartbeatSeconds: number | undefined;
  readonly signal: AbortSignal;
}

export type TaskOutcome =
  | { readonly ok: true; readonly output: Json; readonly at: number }
  | { readonly ok: false; readonly error: string; readonly cause: string; readonly at: number };
