import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import aslValidator from 'asl-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/process.ts';
import { makeTestApp, type TestApp } from '../support/app.ts';
import { RUNBOOKS_DIR } from './harness.ts';

const FILES = readdirSync(RUNBOOKS_DIR)
  .filter((f) => f.endsWith('.asl.json'))
  .sort();
const load = (file: string) =>
  JSON.parse(readFileSync(join(RUNBOOKS_DIR, file), 'utf8')) as Record<string, unknown>;

type State = { Type: string; Resource?: string; Parameters?: unknown; States?: Record<string, State> };

/** The AWS export: every Rebound task becomes a Lambda invoke of runbook_action with {action, params}. */
function forStepFunctions(definition: Record<string, unknown>): Record<string, unknown> {
  const states = definition['States'] as Record<string, State>;
  const out: Record<string, State> = {};
  for (const [name, state] of Object.entries(states)) {
    const match =
      state.Type === 'Task' ? /^rebound:(.+?)(\.waitForTaskToken)?$/.exec(state.Resource ?? '') : null;
    out[name] = match
      ? {
          ...state,
          Resource: `arn:aws:states:::lambda:invoke${match[2] ?? ''}`,
          Parameters: {
            FunctionName: 'arn:aws:lambda:eu-west-1:123456789012:function:runbook_action',
            Payload: { action: match[1], params: state.Parameters ?? {} },
          },
        }
      : state;
  }
  return { ...definition, States: out };
}

describe('shipped runbooks', () => {
  it('are the five the documentation promises', () => {
    expect(FILES).toEqual([
      'bad-deploy.asl.json',
      'high-error-rate.asl.json',
      'high-latency.asl.json',
      'node-not-ready.asl.json',
      'unknown-alert.asl.json',
    ]);
    const readme = readFileSync(join(RUNBOOKS_DIR, 'README.md'), 'utf8');
    for (const f of FILES) expect(readme).toContain(`## ${f.replace('.asl.json', '')}`);
  });

  it.each(FILES)('%s passes asl-validator, and again as exported for Step Functions', (file) => {
    const definition = load(file);
    expect(aslValidator(structuredClone(definition), { checkArn: false, checkPaths: true })).toMatchObject({
      isValid: true,
    });
    const exported = forStepFunctions(definition);
    const result = aslValidator(exported, { checkArn: true, checkPaths: true });
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  describe('against the actions a running server has', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await makeTestApp({ workflows: { runbooksDir: RUNBOOKS_DIR } });
    });
    afterAll(async () => t.close());

    it('loads every one at start, which checks each Task names an installed action', () => {
      expect(t.app.workflows.list().map((w) => w.source)).toEqual(FILES.map((f) => join(RUNBOOKS_DIR, f)));
    });

    it.each(FILES)('%s validates through POST /v1/workflows/validate', async (file) => {
      const res = await t.app.http.inject({
        method: 'POST',
        url: '/v1/workflows/validate',
        payload: { definition: load(file) },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ valid: true, issues: [] });
    });
  });

  it('pass `rebound workflows validate --local`', async () => {
    // One CLI process per file, in parallel: each start costs seconds on a loaded machine.
    const results = await Promise.all(
      FILES.map((file) => runCli(['workflows', 'validate', '--local', join(RUNBOOKS_DIR, file)])),
    );
    expect(results).toEqual(
      FILES.map((f) => ({ code: 0, stdout: `${join(RUNBOOKS_DIR, f)}: valid\n`, stderr: '' })),
    );
  }, 180_000);
});
