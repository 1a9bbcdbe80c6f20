import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from '../../errors.ts';
import { isIntegrationError } from '../../integrations/errors.ts';
import { VerificationFailedError, VerificationUnavailableError } from './errors.ts';
import type { Poller, ResolutionSource } from './pollers.ts';
import type { AlertQuery, ResolvedSignal } from './resolved-signal.ts';

/** One question asked of one source, kept in the verification's output and error details. */
export interface ResolutionCheck {
  readonly alertname: string;
  readonly source: ResolutionSource;
  readonly at: string;
  readonly outcome: 'firing' | 'resolved' | 'error';
  readonly detail: string;
}

export interface AlertDecision {
  readonly alertname: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly source: ResolutionSource;
  readonly at: Date;
}

export interface WaitOptions {
  readonly pollers: readonly Poller[];
  readonly resolved?: ResolvedSignal;
  readonly deadline: Date;
  readonly pollIntervalMs: number;
  readonly now: () => Date;
  readonly signal: AbortSignal;
  /** Most recent checks kept in the result; older ones are counted, not kept. */
  readonly maxChecks?: number;
}

export interface WaitOutcome {
  readonly decisions: readonly AlertDecision[];
  readonly checks: readonly ResolutionCheck[];
  readonly checkCount: number;
}

/**
 * Waits until every queried alert has resolved, each decided by whichever source says so first, or throws
 * `Rebound.VerificationFailed` at the deadline (`Rebound.VerificationUnavailable` if no source can answer).
 */
export async function waitForAlertsResolved(
  queries: readonly AlertQuery[],
  options: WaitOptions,
): Promise<WaitOutcome> {
  const log = new CheckLog(options.maxChecks ?? 50);
  const inner = new AbortController();
  const onOuterAbort = () => inner.abort(options.signal.reason);
  options.signal.addEventListener('abort', onOuterAbort, { once: true });
  const decided = new Map<AlertQuery, AlertDecision>();
  let timer: NodeJS.Timeout | undefined;
  try {
    options.signal.throwIfAborted();
    const all = Promise.all(
      queries.map(async (q) => {
        const d = await raceSources(q, options, inner.signal, log);
        decided.set(q, d);
        return d;
      }),
    );
    all.catch(() => undefined); // losing to the deadline must not leave an unhandled rejection behind
    // A deadline already past (a re-run after a restart) still gets one round of checks, not a blind failure.
    const remaining = Math.max(options.pollIntervalMs, options.deadline.getTime() - options.now().getTime());
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), remaining);
    });
    const first = await Promise.race([all, deadline]);
    if (first === 'deadline') throw notResolved(queries, decided, options, log);
    return { decisions: first, checks: log.entries(), checkCount: log.count };
  } finally {
    clearTimeout(timer);
    options.signal.removeEventListener('abort', onOuterAbort);
    inner.abort(new DOMException('verification finished', 'AbortError'));
  }
}

async function raceSources(
  query: AlertQuery,
  options: WaitOptions,
  outer: AbortSignal,
  log: CheckLog,
): Promise<AlertDecision> {
  // Once this alert is decided its own sources stop, even while other alerts of the incident are still awaited.
  const local = new AbortController();
  const onAbort = () => local.abort(outer.reason);
  outer.addEventListener('abort', onAbort, { once: true });
  try {
    return await firstDecision(query, options, local.signal, log);
  } finally {
    outer.removeEventListener('abort', onAbort);
    local.abort(new DOMException('alert decided', 'AbortError'));
  }
}

function firstDecision(
  query: AlertQuery,
  options: WaitOptions,
  signal: AbortSignal,
  log: CheckLog,
): Promise<AlertDecision> {
  const racers: Promise<AlertDecision>[] = options.pollers.map((p) =>
    pollLoop(p, query, options, signal, log),
  );
  if (options.resolved) {
    racers.push(
      options.resolved.waitForResolved(query, signal).then(({ at }) => {
        log.add({
          alertname: query.alertname,
          source: 'webhook',
          at: at.toISOString(),
          outcome: 'resolved',
          detail: 'resolved webhook received',
        });
        return { alertname: query.alertname, labels: query.labels, source: 'webhook' as const, at };
      }),
    );
  }
  if (racers.length === 0) {
    return Promise.reject(
      new VerificationUnavailableError(
        'verify.alertResolved has no source: configure verify.prometheus or verify.alertmanager, or connect the resolved webhook',
        { retryable: false },
      ),
    );
  }
  // First success wins; a source that fails for good drops out; when all have dropped out, nothing can decide.
  return new Promise((resolve, reject) => {
    let alive = racers.length;
    const failures: string[] = [];
    for (const racer of racers) {
      racer.then(resolve, (err: unknown) => {
        if (signal.aborted) return reject(signal.reason);
        failures.push(describeError(err));
        alive -= 1;
        if (alive === 0) {
          reject(
            new VerificationUnavailableError(
              `no source can tell whether ${query.alertname} resolved: ${failures.join('; ')}`,
              {
                retryable: false,
                details: { failures },
              },
            ),
          );
        }
      });
    }
  });
}

async function pollLoop(
  poller: Poller,
  query: AlertQuery,
  options: WaitOptions,
  signal: AbortSignal,
  log: CheckLog,
): Promise<AlertDecision> {
  for (;;) {
    signal.throwIfAborted();
    try {
      const answer = await poller.check(query, signal);
      const at = options.now();
      const outcome = answer.resolved ? 'resolved' : 'firing';
      log.answered.add(query);
      log.add({
        alertname: query.alertname,
        source: poller.source,
        at: at.toISOString(),
        outcome,
        detail: answer.detail,
      });
      if (answer.resolved)
        return { alertname: query.alertname, labels: query.labels, source: poller.source, at };
    } catch (err) {
      signal.throwIfAborted();
      const detail = describeError(err);
      log.add({
        alertname: query.alertname,
        source: poller.source,
        at: options.now().toISOString(),
        outcome: 'error',
        detail,
      });
      // Transient failures (network, 5xx, timeouts) are retried at the next interval; permanent ones end the source.
      if (!isIntegrationError(err) || !err.retryable) throw err;
    }
    await sleep(options.pollIntervalMs, undefined, { signal });
  }
}

/**
 * What the deadline means: still firing, as the sources said; or, when Prometheus or Alertmanager was asked
 * and never answered about an alert still pending (unreachable the whole time), nothing known either way —
 * an outage of the sources must not read as a failed remediation, which the runbooks would roll back.
 */
function notResolved(
  queries: readonly AlertQuery[],
  decided: Map<AlertQuery, AlertDecision>,
  options: WaitOptions,
  log: CheckLog,
): VerificationFailedError | VerificationUnavailableError {
  const deadline = options.deadline.toISOString();
  const pending = queries.filter((q) => !decided.has(q));
  const names = pending.map((q) => describeQuery(q)).join(', ');
  const last = log.entries().at(-1);
  const lastCheck = last ? ` (last check: ${last.source} ${last.outcome}: ${last.detail})` : '';
  const details = {
    deadline,
    pending: pending.map((q) => ({ alertname: q.alertname, labels: q.labels })),
    checks: log.entries(),
    checkCount: log.count,
  };
  if (options.pollers.length > 0 && pending.every((q) => !log.answered.has(q)))
    return new VerificationUnavailableError(
      `no source answered about ${names} before the deadline ${deadline}${lastCheck}` +
        '; whether the remediation worked is not known — check by hand before rolling back',
      { retryable: false, details },
    );
  return new VerificationFailedError(
    `still firing at the deadline ${deadline}: ${names}${lastCheck}` +
      '; the remediation did not resolve the alert — roll back and escalate',
    details,
  );
}

function describeQuery(query: AlertQuery): string {
  const labels = Object.entries(query.labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return labels.length ? `${query.alertname}{${labels.join(',')}}` : query.alertname;
}

/** Keeps the most recent checks and counts all of them, so a long wait cannot grow the output without bound. */
class CheckLog {
  #entries: ResolutionCheck[] = [];
  count = 0;
  /** The alerts some poller answered about (firing or resolved), however long ago. */
  readonly answered = new Set<AlertQuery>();

  constructor(private readonly max: number) {}

  add(check: ResolutionCheck): void {
    this.count += 1;
    this.#entries.push(check);
    if (this.#entries.length > this.max) this.#entries.shift();
  }

  entries(): readonly ResolutionCheck[] {
    return [...this.#entries];
  }
}
