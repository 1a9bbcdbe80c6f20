/** The kinds of change the dashboard follows live (`GET /v1/stream` event names). */
export const LIVE_KINDS = ['incident', 'execution', 'approval', 'dlq'] as const;
export type LiveKind = (typeof LIVE_KINDS)[number];

/** One change: which kind of object, and its id (the client re-reads what it shows). */
export interface LiveChange {
  readonly kind: LiveKind;
  readonly id: string;
}

export type LiveListener = (changes: readonly LiveChange[]) => void;

/**
 * Fans changes out to stream subscribers. Changes are coalesced per (kind, id) over a short window, so a
 * runbook appending history fifty times a second costs one message, not fifty.
 */
export class LiveNotifier {
  private readonly listeners = new Set<LiveListener>();
  private pending = new Map<string, LiveChange>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly windowMs = 100) {}

  /** Records that an object changed; subscribers hear of it within the coalescing window. */
  publish(kind: LiveKind, id: string): void {
    // Nobody listening: nothing to remember (keeps the hot ingest path free of work).
    if (this.listeners.size === 0) return;
    this.pending.set(`${kind}\u0000${id}`, { kind, id });
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.windowMs);
      this.timer.unref();
    }
  }

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: LiveListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  private flush(): void {
    this.timer = undefined;
    const changes = [...this.pending.values()];
    this.pending = new Map();
    for (const listener of this.listeners) {
      try {
        listener(changes);
      } catch {
        // A broken stream must not stop the others; its own close handler unsubscribes it.
      }
    }
  }
}
