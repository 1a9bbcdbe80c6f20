import { afterEach, describe, expect, it } from 'vitest';
import type { ActionRunner } from '../../src/actions/types.ts';
import type { MachineDefinition } from '../../src/workflows/types.ts';
import { runOnce } from '../../src/workflows/run-once.ts';
import { GuardDb, harness } from './support.ts';

/** The seed's shape: act, and when the rails stop automation, escalate to a human instead. */
const runbook = {
  StartAt: 'Restart',
  States: {
    Restart: {
      Type: 'Task',
      Resource: 'rebound:test.bump',
      Parameters: { namespace: 'shop', name: 'api' },
      Retry: [{ ErrorEquals: ['Rebound.GuardRefused.Lock'], IntervalSeconds: 1, MaxAttempts: 2 }],
      Catch: [
        {
          ErrorEquals: [
            'Rebound.GuardRefused.CircuitOpen',
            'Rebound.GuardRefused.Budget',
            'Rebound.GuardRefused.Paused',
          ],
          ResultPath: '$.refusal',
          Next: 'Escalate',
        },
      ],
      ResultPath: '$.restart',
      End: true,
    },
    Escalate: { Type: 'Pass', Result: 'paged the on-call', ResultPath: '$.escalated', End: true },
  },
} as unknown as MachineDefinition;

/**
 * runOnce names every execution `run` on a fresh database, so its idempotency keys repeat across calls;
 * a real engine's execution ids are unique. Prefix the keys so each run is a distinct execution.
 */
function distinctRuns(inner: ActionRunner): () => ActionRunner {
  let run = 0;
  return () => {
    run += 1;
    const prefix = `run-${run}/`;
    return {
      has: (name) => inner.has(name),
      run: (name, params, ctx) =>
        inner.run(name, params, { ...ctx, idempotencyKey: prefix + ctx.idempotencyKey }),
    };
  };
}

describe('a runbook branches on guard refusals', () => {
  const db = new GuardDb();
  afterEach(() => db.close());

  it('acts while the breaker is closed, escalates while it is open, acts again after resume', async () => {
    const h = harness({ db: db.open() });
    const next = distinctRuns(h.runner);
    const acted = await runOnce(runbook, {}, { runner: next(), schemaCheck: false });
    expect(acted.status).toBe('SUCCEEDED');
    expect(acted.output).toMatchObject({ restart: { before: 0, after: 1 } });

    for (let i = 0; i < 5; i += 1) await h.runner.recordOutcome('prod/shop', false);
    const escalated = await runOnce(runbook, {}, { runner: next(), schemaCheck: false });
    expect(escalated.status).toBe('SUCCEEDED');
    expect(escalated.output).toMatchObject({
      escalated: 'paged the on-call',
      refusal: { Error: 'Rebound.GuardRefused.CircuitOpen' },
    });
    expect((escalated.output as { refusal: { Cause: string } }).refusal.Cause).toContain(
      'rebound automation resume',
    );
    expect(h.action.calls).toHaveLength(1);

    await h.runner.automation.resume({ scope: 'prod/shop' });
    const again = await runOnce(runbook, {}, { runner: next(), schemaCheck: false });
    expect(again.output).toMatchObject({ restart: { before: 1, after: 2 } });
  });
});
