import { afterEach, describe, expect, it } from 'vitest';
import { approvalsConfigSchema } from '../../src/approvals/config.ts';
import type { DecisionOutput } from '../../src/approvals/model.ts';
import { ApprovalService, type TaskCompleter } from '../../src/approvals/service.ts';
import { ReboundError } from '../../src/errors.ts';
import { SqliteApprovalStore, approvalMigrations } from '../../src/store/sqlite/approvals.ts';
import { openSqlite, runMigrations, type SqliteDatabase } from '../../src/store/sqlite/database.ts';
import { GroupCommitter } from '../../src/store/sqlite/group-commit.ts';
import { tempDir } from '../support/app.ts';

/** The engine side as the service sees it: what it was sent, and a script of failures to answer with. */
class ScriptedTasks implements TaskCompleter {
  readonly sent: { token: string; output?: DecisionOutput; error?: string }[] = [];
  readonly failures: Error[] = [];
  async sendTaskSuccess(token: string, output: DecisionOutput) {
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.sent.push({ token, output });
  }
  async sendTaskFailure(token: string, error: string) {
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.sent.push({ token, error });
  }
}

let db: SqliteDatabase | undefined;
let remove: (() => void) | undefined;
afterEach(() => {
  db?.close();
  remove?.();
});

function setup() {
  const dir = tempDir('rebound-approval-service-');
  remove = dir.remove;
  db = openSqlite({ path: `${dir.path}/rebound.db` });
  runMigrations(db, approvalMigrations);
  const store = new SqliteApprovalStore(db, new GroupCommitter(db));
  const tasks = new ScriptedTasks();
  let now = new Date('2026-11-26T00:00:00Z');
  const errors: string[] = [];
  const service = new ApprovalService({
    store,
    tasks,
    config: approvalsConfigSchema.parse({}),
    now: () => now,
    onError: (err, c) => errors.push(`${c.step}: ${String(err)}`),
  });
  const request = (token: string) =>
    service.request({
      taskToken: token,
      executionId: 'approve-restart:e1',
      runbook: 'approve-restart',
      summary: 'restart checkout',
      onTimeout: 'escalate',
    });
  return {
    service,
    store,
    tasks,
    errors,
    request,
    advance: (ms: number) => (now = new Date(now.getTime() + ms)),
  };
}

describe('the approval decision service', () => {
  it('keeps a decision the engine could not take yet and re-sends it on the next sweep', async () => {
    const { service, store, tasks, errors, request } = setup();
    const approval = await request('token-1');
    tasks.failures.push(new Error('database is locked'));

    const result = await service.decide(approval.id, 'remediate', { by: 'user:ana', via: 'api' });
    expect(result).toMatchObject({ kind: 'accepted', approval: { status: 'decided' } });
    expect(tasks.sent).toEqual([]);
    expect(errors).toEqual(['deliver: Error: database is locked']);
    expect((await store.get(approval.id))!.delivered).toBe(false);

    expect(await service.sweep()).toEqual({ expired: 0, redelivered: 1 });
    expect(tasks.sent).toEqual([
      { token: 'token-1', output: { decision: 'remediate', decidedBy: 'user:ana', via: 'api' } },
    ]);
    expect(await service.sweep()).toEqual({ expired: 0, redelivered: 0 });
  });

  it('finds the approval of a task that runs again (restart) instead of creating a second one', async () => {
    const { service, request } = setup();
    const first = await request('token-1');
    const again = await request('token-1');
    expect(again).toEqual(first);
    expect(await service.list('all')).toHaveLength(1);
  });

  it('expires at the stored deadline; an execution that already ended leaves nothing to re-send', async () => {
    const { service, store, tasks, request, advance } = setup();
    const approval = await request('token-1');
    advance(900_000 - 1);
    expect(await service.sweep()).toEqual({ expired: 0, redelivered: 0 });
    advance(1);
    tasks.failures.push(new ReboundError('ILLEGAL_TRANSITION', 'the execution already ended with ABORTED'));
    expect(await service.sweep()).toEqual({ expired: 1, redelivered: 0 });
    expect(tasks.sent).toEqual([]);
    expect(await store.get(approval.id)).toMatchObject({
      status: 'expired',
      via: 'timeout',
      delivered: true,
    });
    expect(await service.sweep()).toEqual({ expired: 0, redelivered: 0 });

    const late = await service.decide(approval.id, 'skip', { by: 'user:ana', via: 'cli' });
    expect(late).toMatchObject({ kind: 'closed', reason: 'no decision within 900s' });
    await expect(service.decide('apr-unknown', 'skip', { by: 'user:ana', via: 'cli' })).rejects.toMatchObject(
      {
        code: 'NOT_FOUND',
      },
    );
  });

  it('refuses a decision that arrives after the deadline, before any sweep: the task gets Approval.TimedOut', async () => {
    const { service, store, tasks, request, advance } = setup();
    const approval = await request('token-1');
    advance(900_000 + 60_000); // a minute past the deadline; the sweep has not run
    const late = await service.decide(approval.id, 'remediate', { by: 'user:ana', via: 'slack' });
    expect(late).toMatchObject({ kind: 'closed', reason: 'no decision within 900s' });
    expect(tasks.sent).toEqual([{ token: 'token-1', error: 'Approval.TimedOut' }]);
    expect(await store.get(approval.id)).toMatchObject({
      status: 'expired',
      via: 'timeout',
      delivered: true,
    });
    expect(await service.sweep()).toEqual({ expired: 0, redelivered: 0 });
  });

  it('retention deletes approvals closed before the cutoff, never a pending or undelivered one', async () => {
    const { service, store, tasks, request, advance } = setup();
    const decided = await request('token-1');
    await service.decide(decided.id, 'remediate', { by: 'user:ana', via: 'api' });
    const undelivered = await request('token-2');
    tasks.failures.push(new Error('database is locked'));
    await service.decide(undelivered.id, 'skip', { by: 'user:ana', via: 'api' });
    const pending = await request('token-3');
    advance(3_600_000);
    const recent = await request('token-4');
    await service.decide(recent.id, 'skip', { by: 'user:ana', via: 'api' });

    expect(await store.deleteClosedBefore('2026-11-26T00:30:00Z')).toBe(1);
    expect(await store.get(decided.id)).toBeUndefined();
    for (const kept of [undelivered, pending, recent]) expect(await store.get(kept.id)).toBeDefined();
  });
});
