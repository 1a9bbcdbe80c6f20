import { setMaxListeners } from 'node:events';
import { describeError } from '../errors.ts';
import type { StoredEvent } from '../events/envelope.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { RetryPolicy } from './config.ts';
import { SliceSizer } from './log-consumer.ts';
import { endSlice, type Pacer } from './pacer.ts';
import type { BusMetrics } from './metrics.ts';
import type { Delivery, DeliveryStore } from './port.ts';
import { decideRetry } from './retry.ts';
import { DeliveryWindow } from './delivery-window.ts';
import { Dictionary } from '../dictionary.ts';
import { failureOf, type DeliveryItem, type Target } from './targets/target.ts';
import type { CompiledTargetInput } from './transform/index.ts';

export interface TargetWorkerOptions {
  /** `<rule>/<target id>`. */
  readonly name: string;
  readonly target: Target;
  readonly input: CompiledTargetInput;
  readonly retry: RetryPolicy;
  readonly concurrency: number;
  readonly store: DeliveryStore;
  readonly metrics: BusMetrics;
  readonly logger: Logger;
  readonly now: () => number;
  /** Holds batch slices to their share of a saturated process (default: never waits). */
  readonly pacer?: Pacer;
}

const SCAN = 1000;
/** After the store failed the worker (a busy or full disk), it tries again this much later. */
const STORE_RETRY_MS = 1000;
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Wall time one turn of the loop aims for: a batch target (the incident projection) runs its slice in one
 * synchronous transaction, which holds every webhook waiting for its commit meanwhile. */
const SLICE_BUDGET_MS = 10;

/**
 * Delivers one target's queue: due deliveries in arrival order, concurrently across ordering keys and
 * strictly in order within one (a delivery waiting for its retry holds back later ones with its key).
 */
export class TargetWorker {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  /** Set after the store failed; apart from `timer`, which the loop re-arms for the next retry. */
  private storeRetry: NodeJS.Timeout | undefined;
  /** Aborted at stop(); every delivery under way listens to it (up to `concurrency` at once). */
  private readonly abort = withoutListenerLimit(new AbortController());
  private readonly slices = new SliceSizer({ min: 50, max: SCAN, budgetMs: SLICE_BUDGET_MS });
  /** The ordering keys a lane is delivering (later deliveries with one wait). */
  private readonly busyKeys = new Dictionary<true>();
  /** Lanes running, and who waits for them all to finish (drain, stop). */
  private lanes = 0;
  private lanesIdle: (() => void)[] = [];
  /** The last read left due work unstarted (lanes full, or its key in flight): finishing lanes re-read. */
  private backlog = false;
  /**
   * The head of the queue as read so far, in arrival (id) order: every queued delivery with an id up to
   * `readThrough` that has not finished since, marked while a lane delivers it. Only this worker finishes
   * or reschedules its deliveries, and new ones always get larger ids, so a read after `readThrough` finds
   * exactly what is new: deliveries in flight are not read again each time a lane frees up. All but the
   * deliveries in flight is forgotten when the store fails (its truth wins).
   */
  private readonly window = new DeliveryWindow();
  private readThrough = 0;
  /** Counts store failures: a read that was under way when one forgot the window is thrown away. */
  private epoch = 0;

  constructor(private options: TargetWorkerOptions) {}

  /** Swaps the target's settings (on reload); in-flight deliveries finish with the old ones. */
  reconfigure(options: TargetWorkerOptions): void {
    const previous = this.options.target;
    this.options = options;
    if (previous !== options.target) this.closeTarget(previous);
  }

  wake(): void {
    if (this.stopped) return;
    this.again = true;
    this.running ??= this.loop()
      .catch((err: unknown) => this.storeFailed(err))
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) this.wake();
      });
  }

  /** The queue could not be read or written: log it and try again shortly (never a crash, never a spin). */
  private storeFailed(err: unknown): void {
    this.again = false;
    // A write may or may not have happened: read the queue afresh (deliveries in flight are kept out by id).
    this.window.forgetWaiting();
    this.readThrough = 0;
    this.epoch += 1;
    this.options.logger.error(
      { target: this.options.name, err: describeError(err) },
      `delivery queue unavailable; retrying in ${STORE_RETRY_MS} ms`,
    );
    if (this.stopped || this.storeRetry) return;
    this.storeRetry = setTimeout(() => {
      this.storeRetry = undefined;
      this.wake();
    }, STORE_RETRY_MS);
    this.storeRetry.unref();
  }

  /** Resolves when nothing due is left (deliveries waiting for a later retry do not count). */
  async drain(): Promise<void> {
    while (this.running || this.lanes > 0) {
      await this.running;
      await this.allLanesEnded();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.storeRetry);
    this.abort.abort(new Error('shutting down'));
    await this.running;
    await this.allLanesEnded();
    this.closeTarget(this.options.target);
  }

  private allLanesEnded(): Promise<void> {
    return this.lanes === 0 ? Promise.resolve() : new Promise((resolve) => this.lanesIdle.push(resolve));
  }

  private closeTarget(target: Target): void {
    target
      .close?.()
      .catch((err: unknown) =>
        this.options.logger.warn(
          { target: this.options.name, err: describeError(err) },
          'closing a target failed',
        ),
      );
  }

  private async loop(): Promise<void> {
    while (this.again && !this.stopped) {
      this.again = false;
      if (!this.options.target.deliverBatch && this.lanes >= this.options.concurrency) {
        this.backlog = true; // every lane busy: the first to finish reads the queue
        continue;
      }
      const { due, nextAt, held } = await this.selectNext();
      if (due.length > 0 && this.options.target.deliverBatch) {
        const slice = takeSlice(due, this.slices.size);
        const started = performance.now();
        await this.deliverBatch(slice.flat());
        // Wall time includes the webhooks served in the same commit: under ingest load slices shrink.
        this.slices.record(countDeliveries(slice), performance.now() - started);
        this.again = true;
        await endSlice(this.options.pacer, started); // ingest first: catch up between requests, not instead of them
      } else if (due.length > 0) {
        // Lanes run on their own (a slow delivery holds back only its own ordering key, never the
        // deliveries that arrive meanwhile) and re-wake the loop when they finish if work was held back.
        const started = await this.startLanes(due);
        this.backlog = held || started < due.length;
      } else {
        this.backlog = held;
      }
      if (nextAt !== undefined) {
        clearTimeout(this.timer);
        // Node fires a timer set past 2^31 - 1 ms at once; a far retry re-arms on each early wake instead.
        const delay = Math.min(MAX_TIMER_MS, Math.max(0, nextAt - this.options.now()));
        this.timer = setTimeout(() => this.wake(), delay);
        this.timer.unref();
      }
    }
  }

  /**
   * Due deliveries from the head of the queue. The window holds what the next turn can use: deliveries in
   * flight, and twice the free lanes (or slice) beyond them; it grows to the full scan only while its head is
   * all held back (a key in flight or waiting for a retry).
   */
  private async selectNext(): Promise<{ due: Delivery[][]; nextAt: number | undefined; held: boolean }> {
    const { target, concurrency } = this.options;
    const want = target.deliverBatch
      ? 2 * this.slices.size
      : this.window.busy + 2 * (concurrency - this.lanes);
    let more = await this.readNew(Math.min(SCAN, want));
    for (;;) {
      const waiting = this.window.waiting();
      const selected = selectDue(waiting, this.options.now(), this.busyKeys);
      if (selected.due.length > 0 || !more || this.window.size >= SCAN) {
        // Something not selected (held back by a key in flight or a retry, or beyond the window).
        const held = waiting.length > countDeliveries(selected.due) || more;
        return { ...selected, held };
      }
      more = await this.readNew(SCAN);
    }
  }

  /**
   * Reads deliveries queued since the last read until the window holds `upTo`; true when more may be
   * queued beyond them.
   */
  private async readNew(upTo: number): Promise<boolean> {
    const limit = upTo - this.window.size;
    if (limit <= 0) return true;
    const epoch = this.epoch;
    const fresh = await this.options.store.pending(this.options.name, limit, this.readThrough);
    // The window was forgotten meanwhile: these follow deliveries it no longer holds. Start over.
    if (epoch !== this.epoch) return this.readNew(upTo);
    this.window.add(fresh);
    if (fresh.length > 0) this.readThrough = fresh[fresh.length - 1]!.id;
    return fresh.length === limit;
  }

  private async deliverBatch(all: Delivery[]): Promise<void> {
    const events = await this.options.store.events(all.map((d) => d.eventId));
    const { target } = this.options;
    // Batch targets get everything due in arrival order, all or nothing.
    const items = all.map((d) => this.item(d, events.get(d.eventId))).filter((i) => i !== undefined);
    const started = performance.now();
    try {
      await target.deliverBatch!(items, this.abort.signal);
    } catch (err) {
      for (const item of items) await this.failed(item.delivery, err);
      return;
    }
    // Not the target's failure if this throws: the store's (the loop retries; the batch goes out again).
    await this.succeeded(items, started);
  }

  /** Starts one lane per ordering-key group, as many as the concurrency bound leaves room for. */
  /** Returns how many of the groups it started. */
  private async startLanes(groups: readonly Delivery[][]): Promise<number> {
    const chosen = groups.slice(0, Math.max(0, this.options.concurrency - this.lanes));
    if (chosen.length === 0) return 0;
    const all = chosen.flat();
    for (const d of all) this.window.setBusy(d.id, true);
    for (const group of chosen) this.busyKeys.set(group[0]!.orderingKey, true);
    let events: Map<string, StoredEvent>;
    try {
      events = await this.options.store.events(all.map((d) => d.eventId));
    } catch (err) {
      for (const group of chosen) this.release(group);
      throw err;
    }
    for (const group of chosen) {
      this.lanes += 1;
      void this.runGroup(group, events).then(
        (complete) => this.endLane(group, complete),
        (err: unknown) => {
          // Recording the outcome failed (the store): the delivery is still queued and goes out again
          // once the store answers, not at once in a loop.
          this.endLane(group, true);
          this.storeFailed(err);
        },
      );
    }
    return chosen.length;
  }

  private endLane(group: readonly Delivery[], complete: boolean): void {
    this.release(group);
    this.lanes -= 1;
    if (this.lanes === 0 && this.lanesIdle.length > 0) {
      const waiters = this.lanesIdle;
      this.lanesIdle = [];
      for (const resolve of waiters) resolve();
    }
    // New deliveries wake the worker themselves; a finished lane matters only to work it held back, and a
    // failed one to its retry's timer.
    if (this.backlog || !complete) this.wake();
  }

  private release(group: readonly Delivery[]): void {
    for (const d of group) this.window.setBusy(d.id, false);
    this.busyKeys.delete(group[0]!.orderingKey);
  }

  /** Delivers a group in order; false when one failed (the rest wait for its retry). */
  private async runGroup(group: readonly Delivery[], events: Map<string, StoredEvent>): Promise<boolean> {
    for (const d of group) {
      // Shutting down: the rest of the group stays queued for the next start, no attempt counted.
      if (this.abort.signal.aborted) return false;
      const item = this.item(d, events.get(d.eventId));
      if (!item) continue;
      const started = performance.now();
      try {
        await this.options.target.deliver!(item, this.abort.signal);
      } catch (err) {
        await this.failed(d, err);
        return false; // keep the key's order: the rest waits for this one's retry
      }
      // The target has it. Failing to record that is the store's failure, not a failed attempt: the lane
      // ends with it (storeFailed) and the delivery, still queued, goes out again.
      await this.succeeded([item], started);
    }
    return true;
  }

  private item(delivery: Delivery, event: StoredEvent | undefined): DeliveryItem | undefined {
    if (!event) {
      // The archive dropped the event (retention) while it waited: nothing left to deliver. Out of the
      // window at once, so no turn picks it up again before the move commits.
      this.window.remove(delivery.id);
      this.options.store
        .deadLetter(
          delivery,
          delivery.attempts,
          'event no longer in the archive',
          new Date(this.options.now()).toISOString(),
        )
        .catch((err: unknown) => this.storeFailed(err));
      return undefined;
    }
    const envelope = delivery.replay ? { ...event.envelope, 'replay-name': delivery.replay } : event.envelope;
    const withReplay = { ...event, envelope };
    const input = this.options.input.apply(envelope, {
      ruleName: delivery.rule,
      ingestionTime: event.receivedAt,
    });
    return { delivery, event: withReplay, input };
  }

  private async succeeded(items: readonly DeliveryItem[], started: number): Promise<void> {
    await this.options.store.complete(items.map((i) => i.delivery.id));
    for (const i of items) this.window.remove(i.delivery.id);
    const { metrics, name } = this.options;
    const seconds = (performance.now() - started) / 1000;
    const now = this.options.now();
    metrics.delivered.inc({ target: name }, items.length);
    metrics.deliveryLatency.observe({ target: name }, seconds);
    for (const i of items)
      metrics.eventAge.observe({ target: name }, (now - Date.parse(i.event.receivedAt)) / 1000);
  }

  private async failed(d: Delivery, err: unknown): Promise<void> {
    // Cut short by shutdown (one delivery or a batch): not the target's failure. It stays queued, attempts
    // unchanged, and goes out after the restart.
    if (this.abort.signal.aborted) return;
    const { metrics, name, logger } = this.options;
    const attempts = d.attempts + 1;
    const message = describeError(err);
    const now = this.options.now();
    metrics.failed.inc({ target: name });
    const decision = decideRetry(this.options.retry, attempts, d.createdAt, now, failureOf(err));
    const log = { target: name, eventId: d.eventId, correlationId: d.correlationId, attempts, err: message };
    if (decision.retry) {
      metrics.retried.inc({ target: name });
      logger.warn(
        { ...log, retryAt: new Date(decision.notBefore).toISOString() },
        'delivery failed; will retry',
      );
      await this.options.store.reschedule(d.id, attempts, decision.notBefore, message);
      // Replaced in place: the window keeps its position, so the queue order holds.
      this.window.replace({ ...d, attempts, notBefore: decision.notBefore, lastError: message });
    } else {
      metrics.deadLettered.inc({ target: name });
      logger.error({ ...log, reason: decision.reason }, 'delivery failed; moved to the dead-letter queue');
      await this.options.store.deadLetter(
        d,
        attempts,
        `${message} (${decision.reason})`,
        new Date(now).toISOString(),
      );
      this.window.remove(d.id);
    }
  }
}

/** Whole ordering-key groups, in arrival order, until `limit` deliveries (at least one group). */
export function takeSlice(groups: readonly Delivery[][], limit: number): Delivery[][] {
  const out: Delivery[][] = [];
  let count = 0;
  for (const group of groups) {
    if (out.length > 0 && count + group.length > limit) break;
    out.push(group);
    count += group.length;
  }
  return out;
}

function countDeliveries(groups: readonly Delivery[][]): number {
  let n = 0;
  for (const g of groups) n += g.length;
  return n;
}

/** Groups due deliveries by ordering key, skipping keys held back by an earlier delivery that is not due
 * or by one still being delivered (`busy`). */
export function selectDue(
  pending: readonly Delivery[],
  now: number,
  busy: { has(key: string): boolean } = new Set(),
): { due: Delivery[][]; nextAt: number | undefined } {
  const groups = new Map<string, Delivery[]>();
  const blocked = new Set<string>();
  let nextAt: number | undefined;
  for (const d of pending) {
    if (busy.has(d.orderingKey) || blocked.has(d.orderingKey)) continue;
    if (d.notBefore > now) {
      blocked.add(d.orderingKey);
      nextAt = nextAt === undefined ? d.notBefore : Math.min(nextAt, d.notBefore);
      continue;
    }
    const group = groups.get(d.orderingKey);
    if (group) group.push(d);
    else groups.set(d.orderingKey, [d]);
  }
  return { due: [...groups.values()], nextAt };
}

/** Node warns past 10 listeners on one signal; a target's deliveries under way may be many more. */
function withoutListenerLimit(controller: AbortController): AbortController {
  setMaxListeners(0, controller.signal);
  return controller;
}
