import { StatesError } from './errors.ts';
import type { Finished, StateVisit } from './dataflow.ts';
import { decideRetry, findCatcher } from './retry.ts';

export interface Transition {
  readonly finished: Finished;
  /** The state entered next; undefined when the frame ends here. */
  readonly next: string | undefined;
}

/**
 * Runs a Task, Parallel or Map state's body with its Retry and Catch fields. Each attempt has its own replay
 * key; each retrier keeps its own count; an exhausted retrier hands over to Catch, never to a later retrier.
 */
export async function withRetryAndCatch(
  visit: StateVisit,
  body: (attempt: number, attemptKey: string) => Promise<Finished>,
): Promise<Transition> {
  const { frame, state, visitKey } = visit;
  const journal = frame.journal;
  const counts: number[] = [];
  for (let attempt = 0; ; attempt += 1) {
    const attemptKey = `${visitKey}@${journal.epoch}:a${attempt}`;
    try {
      const finished = await body(attempt, attemptKey);
      return { finished, next: state.End ? undefined : state.Next };
    } catch (err) {
      if (!(err instanceof StatesError)) throw err;
      const decision = decideRetry(state.Retry, err.error, counts, journal.random(`${attemptKey}:jitter`));
      if (decision.retry) {
        counts[decision.retrierIndex] = (counts[decision.retrierIndex] ?? 0) + 1;
        visit.retryCount += 1;
        await journal.sleepUntil(
          frame,
          `${attemptKey}:backoff`,
          journal.now() + decision.delayMs,
          frame.signal,
        );
        continue;
      }
      const catcher = findCatcher(state.Catch, err.error);
      if (!catcher) throw err;
      return { finished: await visit.caught(catcher, err.toOutput()), next: catcher.Next };
    }
  }
}
