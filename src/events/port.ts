import type { StoredEvent } from './envelope.ts';

export interface EventPage {
  readonly items: StoredEvent[];
  /** Opaque; pass back to get the next page. Absent on the last page. */
  readonly nextCursor?: string;
}

export interface EventQuery {
  /** Inclusive ISO-8601 lower bound on the event time. */
  readonly from?: string;
  /** Exclusive ISO-8601 upper bound on the event time. */
  readonly to?: string;
  readonly cursor?: string;
  readonly limit: number;
  /** Newest first (the cursor then continues towards older events); oldest first by default. */
  readonly newestFirst?: boolean;
}

/** Read access to stored events by time range (access pattern: events between t1 and t2). */
export interface EventReader {
  /** Lists events in time order within the range, one page at a time. */
  listEvents(query: EventQuery): Promise<EventPage>;
  /** Counts events within the time range. */
  countEvents(query: { from?: string; to?: string }): Promise<number>;
  /** Returns one event by its envelope id. */
  getEvent(id: string): Promise<StoredEvent | undefined>;
  /**
   * Deletes events archived (received) before the cutoff — retention, whatever time their producer gave
   * them; returns how many were deleted. Stops between chunks once `signal` aborts (shutdown).
   */
  deleteEventsBefore(cutoff: string, signal?: AbortSignal): Promise<number>;
}
