import { randomUUID } from 'node:crypto';
import { describeError } from '../errors.ts';
import type { StoredEvent } from '../events/envelope.ts';
import type { EventLog, LoggedEvent } from '../events/log.ts';
import type { EventReader } from '../events/port.ts';
import type { ReplayProgress } from '../http/views.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { TargetConfig } from './config.ts';
import { LogConsumer } from './log-consumer.ts';
import type { Pacer } from './pacer.ts';
import type { BusMetrics } from './metrics.ts';
import { compilePattern, matches } from './pattern/index.ts';
import type { DeliveryStore, NewDelivery } from './port.ts';
import { RuleSet } from './rules.ts';
import type { Target } from './targets/target.ts';
import { TargetWorker } from './worker.ts';

export interface BusDeps {
  readonly log: EventLog;
  readonly events: EventReader;
  readonly store: DeliveryStore;
  readonly metrics: BusMetrics;
  readonly logger: Logger;
  /** Builds the implementation of a configured target. */
  readonly makeTarget: (config: TargetConfig) => Target;
  /** The key whose events one target receives in order (default: the event id, i.e. no ordering). */
  readonly orderingKey: (event: StoredEvent) => string;
  readonly now?: () => number;
  /** Shares a saturated process with ingest (default: background work never waits). */
  readonly pacer?: Pacer;
  /**
   * From inside the store's unit of work now running: calls `callback` once that unit's transaction is
   * durable (the group committer's `whenDurable`).
   */
  readonly whenDurable: (callback: () => void) => void;
}

export interface ReplayRequest {
  readonly from: string;
  readonly to: string;
  /** Only archived events that also match this pattern. */
  readonly pattern?: unknown;
  /** Only this rule's targets. */
  readonly rule?: string;
  readonly dryRun?: boolean;
  readonly name?: string;
}

export type { ReplayProgress };

const ROUTER = 'router';
/** Finished replays whose progress `GET /v1/replays/{id}` still answers. */
const KEPT_REPLAYS = 100;

/**
 * The event bus: a router matches each stored event against the rules and enqueues one delivery per matching
 * target, in the same transaction as its checkpoint; one worker per target delivers with retries and a
 * dead-letter queue.
 *
 * The router routes each append inside the transaction that stores the events (the event log hands them
 * over), so an event and its deliveries commit together and one sync makes both durable. When it is behind
 * (at start, after a failure, or while a saturated process answers ingest first) it reads the log from its
 * checkpoint instead, in paced slices, until it has caught up.
 */
export class Bus {
  private rules: RuleSet;
  private readonly workers = new Map<string, TargetWorker>();
  /** Each target's implementation and the configuration it was built from. */
  private readonly built = new Map<string, { config: string; target: Target }>();
  private readonly router: LogConsumer;
  private readonly replays = new Map<string, ReplayProgress>();
  /** Every replay name used since the start, also those whose progress was forgotten: a name used twice
   * would give its workflow executions the names they already have, and start none. */
  private readonly replayNames = new Set<string>();
  private readonly now: () => number;
  private orphans: Promise<void> | undefined;
  private stopping = false;

  constructor(
    private readonly deps: BusDeps,
    rules: RuleSet,
  ) {
    this.now = deps.now ?? Date.now;
    this.rules = rules;
    this.router = new LogConsumer({
      name: ROUTER,
      log: deps.log,
      logger: deps.logger,
      ...(deps.pacer ? { pacer: deps.pacer } : {}),
      handle: (batch) =>
        this.route(
          batch.map((b) => b.event),
          batch[batch.length - 1]!.seq,
        ),
    });
    this.configureWorkers();
  }

  get ruleSet(): RuleSet {
    return this.rules;
  }

  start(): void {
    this.router.start();
    this.deps.log.follow({
      name: ROUTER,
      handle: (logged) => this.routeWithin(logged),
      // Under a storm, ingest answers first: routing waits for the paced reader (see pacer.ts).
      accepts: () => !this.deps.pacer?.saturated,
      failed: (err) =>
        this.deps.logger.warn(
          { err: describeError(err) },
          'routing in the storing transaction failed; the router reads the events from the log',
        ),
    });
    for (const worker of this.workers.values()) worker.wake();
    this.orphans = this.deadLetterOrphans().catch((err: unknown) =>
      this.deps.logger.error(
        { err: describeError(err) },
        'could not check for deliveries to removed targets',
      ),
    );
  }

  /**
   * Deliveries queued for a target the configuration no longer has (removed, then restarted): no worker
   * could ever deliver them, so they go to the dead-letter queue, where they are seen and can be redriven
   * once the target is back.
   */
  private async deadLetterOrphans(): Promise<void> {
    const at = new Date(this.now()).toISOString();
    for (const [target, queued] of await this.deps.store.depths()) {
      if (queued === 0) continue;
      let moved = 0;
      // A batch at a time, each in one commit (units of one turn share it); a reload that brings the target
      // back, or shutdown, stops it between batches.
      while (!this.stopping && !this.workers.has(target)) {
        const batch = await this.deps.store.pending(target, 500);
        if (batch.length === 0) break;
        const error = `target ${target} is no longer configured`;
        await Promise.all(batch.map((d) => this.deps.store.deadLetter(d, d.attempts, error, at)));
        moved += batch.length;
      }
      if (moved > 0)
        this.deps.logger.warn(
          { target, deliveries: moved },
          'target no longer configured; its queued deliveries moved to the dead-letter queue',
        );
    }
  }

  /**
   * Called after events are stored (durably): the router routes what the storing transaction did not (the
   * targets of what it did were woken when it became durable).
   */
  notify(): void {
    this.router.wake();
  }

  /** Deliveries were queued outside the bus (a DLQ redrive): every worker looks at its queue now. */
  wakeWorkers(): void {
    if (this.stopping) return;
    for (const worker of this.workers.values()) worker.wake();
  }

  /** Replaces the rules; deliveries already queued (even for removed targets) still go out. */
  reload(rules: RuleSet): void {
    this.rules = rules;
    this.configureWorkers();
    this.deps.logger.info({ rules: rules.rules.size }, 'bus rules reloaded');
  }

  /** Resolves once every stored event is routed and every due delivery attempted. */
  async drain(): Promise<void> {
    await this.router.drain();
    // The router goes on at COMMIT; its deliveries reach the workers once durable.
    await this.deps.store.durable();
    for (const worker of this.workers.values()) {
      worker.wake();
      await worker.drain();
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.deps.log.follow(undefined);
    await this.orphans;
    await this.router.stop();
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
  }

  /** Refreshes the queue and DLQ depth gauges. */
  async refreshGauges(): Promise<void> {
    const [depths, dlq] = await Promise.all([this.deps.store.depths(), this.deps.store.deadLetterDepths()]);
    for (const name of new Set([...this.workers.keys(), ...depths.keys(), ...dlq.keys()])) {
      this.deps.metrics.queueDepth.set({ target: name }, depths.get(name) ?? 0);
      this.deps.metrics.dlqDepth.set({ target: name }, dlq.get(name) ?? 0);
    }
  }

  /** Starts a replay of archived events in [from, to) through the current rules; returns its progress id. */
  startReplay(request: ReplayRequest): ReplayProgress {
    const pattern = request.pattern === undefined ? undefined : compilePattern(request.pattern);
    const id = request.name ?? `replay-${randomUUID().slice(0, 8)}`;
    let progress: ReplayProgress = {
      id,
      state: 'running',
      total: 0,
      scanned: 0,
      matched: 0,
      deliveries: 0,
      dryRun: request.dryRun ?? false,
    };
    this.replayNames.add(id);
    this.replays.set(id, progress);
    this.forgetOldReplays();
    const update = (p: Partial<ReplayProgress>) => this.replays.set(id, (progress = { ...progress, ...p }));
    void (async () => {
      try {
        update({ total: await this.deps.events.countEvents({ from: request.from, to: request.to }) });
        let cursor: string | undefined;
        do {
          const page = await this.deps.events.listEvents({
            from: request.from,
            to: request.to,
            limit: 500,
            ...(cursor ? { cursor } : {}),
          });
          // Matched as EventBridge matches a replayed event: with its `replay-name`, so a rule can keep
          // replays out (`"replay-name": [{"exists": false}]`) or take only them.
          const selected = page.items
            .map((e) => ({ ...e, envelope: { ...e.envelope, 'replay-name': id } }))
            .filter((e) => !pattern || matches(pattern, e.envelope));
          const { deliveries, perRule } = this.deliveriesFor(selected, id, request.rule);
          if (!progress.dryRun && deliveries.length > 0) {
            await this.deps.store.enqueue(deliveries);
            this.countMatches(perRule);
          }
          update({
            scanned: progress.scanned + page.items.length,
            matched: progress.matched + new Set(deliveries.map((d) => d.eventId)).size,
            deliveries: progress.deliveries + deliveries.length,
          });
          this.wakeTargets(deliveries);
          cursor = page.nextCursor;
        } while (cursor);
        update({ state: 'completed' });
      } catch (err) {
        update({ state: 'failed', error: (err as Error).message });
      }
    })();
    return progress;
  }

  /** Keeps the progress of the latest finished replays only, and of every one still running. */
  private forgetOldReplays(): void {
    const finished = [...this.replays].filter(([, p]) => p.state !== 'running');
    for (const [id] of finished.slice(0, Math.max(0, finished.length - KEPT_REPLAYS)))
      this.replays.delete(id);
  }

  /** Whether a replay of this name was started since the server started. */
  hasReplay(name: string): boolean {
    return this.replayNames.has(name);
  }

  replay(id: string): ReplayProgress | undefined {
    return this.replays.get(id);
  }

  /**
   * Routes events inside the transaction storing them; their workers wake once that transaction is durable,
   * before the producers waiting for it are answered (the deliveries start first, the answers follow in the
   * same turn), and never before: a target must not get an event a crash could still take back.
   * Counted once the hand-over is kept: one that fails (its savepoint rolled back) is routed, and counted,
   * by the router reading the log. (A storing commit that fails after this still leaves them counted; the
   * producer was answered with an error and sends them again.)
   */
  private routeWithin(logged: readonly LoggedEvent[]): () => void {
    const { deliveries, perRule } = this.deliveriesFor(
      logged.map((l) => l.event),
      null,
    );
    this.deps.store.enqueueWithin(deliveries);
    return () => {
      this.countMatches(perRule);
      this.deps.metrics.routed.inc({ path: 'inline' }, logged.length);
      if (deliveries.length > 0) this.deps.whenDurable(() => this.wakeTargets(deliveries));
    };
  }

  private async route(events: readonly StoredEvent[], seq: number): Promise<void> {
    const { deliveries, perRule } = this.deliveriesFor(events, null);
    const wake = deliveries.length > 0 ? () => this.wakeTargets(deliveries) : undefined;
    await this.deps.store.enqueue(deliveries, { consumer: ROUTER, seq }, wake);
    this.countMatches(perRule);
    this.deps.metrics.routed.inc({ path: 'log' }, events.length);
  }

  private countMatches(perRule: ReadonlyMap<string, number>): void {
    for (const [rule, count] of perRule) this.deps.metrics.matched.inc({ rule }, count);
  }

  /** The deliveries of `events` to the targets of the rules they match, and the matches per rule. */
  private deliveriesFor(
    events: readonly StoredEvent[],
    replay: string | null,
    onlyRule?: string,
  ): { deliveries: NewDelivery[]; perRule: Map<string, number> } {
    const out: NewDelivery[] = [];
    const perRule = new Map<string, number>();
    const createdAt = this.now();
    for (const event of events) {
      for (const rule of this.rules.match(event.envelope)) {
        if (onlyRule && rule.name !== onlyRule) continue;
        perRule.set(rule.name, (perRule.get(rule.name) ?? 0) + 1);
        const orderingKey = this.deps.orderingKey(event);
        for (const target of rule.targets) {
          out.push({
            eventId: event.envelope.id,
            target: target.name,
            rule: rule.name,
            orderingKey,
            createdAt,
            replay,
            correlationId: event.correlationId,
          });
        }
      }
    }
    return { deliveries: out, perRule };
  }

  private wakeTargets(deliveries: readonly NewDelivery[]): void {
    for (const name of new Set(deliveries.map((d) => d.target))) this.workers.get(name)?.wake();
  }

  private configureWorkers(): void {
    for (const target of this.rules.targets()) {
      // A reload keeps an unchanged target (and the connections it holds); a changed one is rebuilt.
      const config = JSON.stringify(target.config);
      let built = this.built.get(target.name);
      if (built?.config !== config) {
        built = { config, target: this.deps.makeTarget(target.config) };
        this.built.set(target.name, built);
      }
      const options = {
        name: target.name,
        target: built.target,
        input: target.input,
        retry: target.config.retry,
        concurrency: target.config.concurrency,
        store: this.deps.store,
        metrics: this.deps.metrics,
        logger: this.deps.logger,
        now: this.now,
        ...(this.deps.pacer ? { pacer: this.deps.pacer } : {}),
      };
      const existing = this.workers.get(target.name);
      if (existing) existing.reconfigure(options);
      else this.workers.set(target.name, new TargetWorker(options));
    }
  }
}
