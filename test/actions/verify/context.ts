import type { ActionContext } from '../../../src/actions/types.ts';

/** An ActionContext for tests: real clock, a fresh signal, not shadow. */
export function testContext(overrides: Partial<ActionContext> = {}): ActionContext {
  return {
    idempotencyKey: 'exec-1/Verify/0',
    shadow: false,
    signal: new AbortController().signal,
    now: () => new Date(),
    incidentId: 'inc-1',
    ...overrides,
  };
}

/** Polls `probe` until it returns true (tests wait on behaviour, never on a fixed sleep). */
export async function eventually(
  probe: () => Promise<boolean> | boolean,
  what: string,
  attempts = 300,
): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export async function rejection(promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error('expected a rejection');
  return err;
}
