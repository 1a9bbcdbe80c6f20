import { describe, expect, it } from 'vitest';
import { runCli } from '../support/process.ts';
import {
  approvalConfig,
  approvalTestEnv,
  finished,
  OPERATOR_TOKEN,
  pendingApproval,
  startHarness,
  startRunbook,
} from './harness.ts';

const t = approvalTestEnv();

describe('rebound approve / deny / approvals list', () => {
  it(
    'lists pending approvals and approves one; the runbook resumes; a second decision exits 1',
    { timeout: 120_000 },
    async () => {
      t.h = await startHarness(approvalConfig(t.slack, { tokens: true }));
      const operator = { authorization: `Bearer ${OPERATOR_TOKEN}` };
      const { executionId } = await startRunbook(t.h, operator);
      const approval = await pendingApproval(t.h, operator);
      const env = { REBOUND_URL: t.h.url, REBOUND_TOKEN: OPERATOR_TOKEN };

      const list = await runCli(['approvals', 'list', '--output', 'json'], { env });
      expect(list.stderr).toBe('');
      expect(list.code).toBe(0);
      expect(JSON.parse(list.stdout).items).toEqual([approval]);

      const approve = await runCli(['approve', approval.id], { env });
      expect(approve.stderr).toBe('');
      expect(approve.code).toBe(0);
      expect(approve.stdout).toBe(`${approval.id}: remediate by user:ana; the runbook resumes\n`);
      const done = await finished(t.h, executionId, operator);
      expect(done.output).toMatchObject({
        result: 'restarted',
        approval: { decision: 'remediate', decidedBy: 'user:ana', via: 'cli' },
      });

      const deny = await runCli(['deny', approval.id], { env });
      expect(deny.code).toBe(1);
      expect(deny.stderr).toMatch(/already decided: remediate by user:ana via cli .*\(ILLEGAL_TRANSITION\)/);

      const table = await runCli(['approvals', 'list', '--status', 'all'], { env });
      expect(table.code).toBe(0);
      expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+STATUS\s+DECISION\s+DECIDEDBY\s+VIA/);
      expect(table.stdout).toMatch(new RegExp(`${approval.id}\\s+decided\\s+remediate\\s+user:ana\\s+cli`));
    },
  );

  it(
    'answers --help, refuses bad usage with exit 2 and an unknown id with exit 1',
    { timeout: 120_000 },
    async () => {
      const help = await runCli(['approvals', '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/list/);
      expect(help.stdout).toMatch(/rebound approve\|deny ID/);
      const usage = await runCli(['approvals', 'list', '--status', 'maybe']);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toMatch(/pending, decided, expired, all/);

      t.h = await startHarness(approvalConfig(t.slack));
      const unknown = await runCli(['deny', 'apr-missing'], { env: { REBOUND_URL: t.h.url } });
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/no approval 'apr-missing'.*\(NOT_FOUND\)/);
    },
  );
});
