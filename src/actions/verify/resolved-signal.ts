/**
 * The event-driven source of `verify.alertResolved`: ingest tells the hub about firing and resolved alerts as
 * Alertmanager's webhook delivers them, and a verification waiting on matching labels wakes at once, with no
 * polling delay. The port is owned here (its caller); `ResolvedAlertHub` is the in-process implementation.
 */
import { alertFingerprint } from '../../ingest/alertmanager/fingerprint.ts';

/** Which alert a verification waits for: the alertname plus the labels that identify the problem. */
export interface AlertQuery {
  readonly alertname: string;
  /** A subset of the alert's labels; an alert matches when it carries all of them. */
  readonly labels: Readonly<Record<string, string>>;
  /** Ignore resolutions that happened before this time (e.g. from an earlier episode of the same alert). */
  readonly since?: Date;
}

export interface ResolvedSignal {
  /** Resolves when every known alert matching `query` has resolved; rejects with `signal.reason` on abort. */
  waitForResolved(query: AlertQuery, signal: AbortSignal): Promise<{ at: Date }>;
}

/** The fields of a webhook alert the hub needs. */
export interface ObservedAlert {
  readonly status: 'firing' | 'resolved';
  readonly labels: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly endsAt: string;
  /** The label set's fingerprint when the caller has it already (ingest computes it for every alert). */
  readonly fingerprint?: string;
}

interface Remembered {
  readonly labels: Readonly<Record<string, string>>;
  readonly state: 'firing' | 'resolved';
  readonly at: Date;
}

interface Waiter {
  readonly query: AlertQuery;
  readonly resolve: (value: { at: Date }) => void;
}

export interface ResolvedAlertHubOptions {
  /** How many alert label sets to remember (oldest forgotten first). */
  readonly maxRemembered?: number;
}

/** In-process `ResolvedSignal`: remembers the latest state of each alert label set and wakes waiters. */
export class ResolvedAlertHub implements ResolvedSignal {
  readonly #latest = new Map<string, Remembered>();
  readonly #waiters = new Set<Waiter>();
  readonly #max: number;

  constructor(options: ResolvedAlertHubOptions = {}) {
    this.#max = options.maxRemembered ?? 10_000;
  }

  /**
   * Feeds one alert from an Alertmanager webhook (payload v4): firing alerts by `startsAt`, resolved ones by
   * `endsAt`. Ingest calls this for every alert it accepts.
   */
  observe(alert: ObservedAlert): void {
    if (alert.status === 'resolved') {
      this.notifyResolved(alert.labels, new Date(alert.endsAt), alert.fingerprint);
    } else {
      this.notifyFiring(alert.labels, new Date(alert.startsAt), alert.fingerprint);
    }
  }

  /** Records that an alert with these labels fired (a firing webhook), so an old resolution no longer counts. */
  notifyFiring(labels: Readonly<Record<string, string>>, at: Date, fingerprint?: string): void {
    this.#remember({ labels, state: 'firing', at }, fingerprint);
  }

  /** Records that an alert with these labels resolved and wakes every waiter whose query is now satisfied. */
  notifyResolved(labels: Readonly<Record<string, string>>, at: Date, fingerprint?: string): void {
    this.#remember({ labels, state: 'resolved', at }, fingerprint);
    for (const waiter of [...this.#waiters]) {
      if (!matches(waiter.query, labels)) continue;
      const decided = this.#decide(waiter.query);
      if (decided) {
        this.#waiters.delete(waiter);
        waiter.resolve(decided);
      }
    }
  }

  waitForResolved(query: AlertQuery, signal: AbortSignal): Promise<{ at: Date }> {
    if (signal.aborted) return Promise.reject(abortReason(signal));
    const known = this.#decide(query);
    if (known) return Promise.resolve(known);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        query,
        resolve: (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
      };
      const onAbort = () => {
        this.#waiters.delete(waiter);
        reject(abortReason(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(waiter);
    });
  }

  /** Number of verifications currently waiting (for metrics and leak tests). */
  get waiting(): number {
    return this.#waiters.size;
  }

  // Resolved when the hub knows at least one matching alert, none of them firing, resolved after `since`.
  #decide(query: AlertQuery): { at: Date } | undefined {
    let latest: Date | undefined;
    for (const entry of this.#latest.values()) {
      if (!matches(query, entry.labels)) continue;
      if (entry.state === 'firing') return undefined;
      if (query.since && entry.at < query.since) continue;
      if (!latest || entry.at > latest) latest = entry.at;
    }
    return latest ? { at: latest } : undefined;
  }

  // Keyed by the label set's fingerprint (Alertmanager's identity of an alert).
  #remember(entry: Remembered, key = alertFingerprint(entry.labels)): void {
    this.#latest.delete(key); // re-insert so Map order is least-recently-updated first
    this.#latest.set(key, entry);
    while (this.#latest.size > this.#max) {
      const oldest = this.#latest.keys().next();
      if (oldest.done) break;
      this.#latest.delete(oldest.value);
    }
  }
}

/** True when `labels` carry the query's alertname and every one of its labels. */
export function matches(query: AlertQuery, labels: Readonly<Record<string, string>>): boolean {
  if (labels['alertname'] !== query.alertname) return false;
  return Object.entries(query.labels).every(([name, value]) => labels[name] === value);
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('aborted', 'AbortError');
}
