import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

const here = import.meta.dirname;
const dir = mkdtempSync(join(tmpdir(), 'rebound-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const EXECUTIONS = 6;

/** Runs the worker; kills it with SIGKILL after `killAfterMs` (if given). Resolves with whether it finished. */
function runWorker(db: string, effects: string, killAfterMs?: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(here, 'crash-worker.ts'), db, effects, String(EXECUTIONS)],
      {
        cwd: join(here, '../..'),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      // Start the kill clock once the engine is up, so kills land inside runbooks, not in tsx's startup.
      if (killAfterMs !== undefined && timer === undefined && out.includes('STARTED')) {
        timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') return resolve(false);
      if (code !== 0) return reject(new Error(`worker exited with ${code}: ${err}`));
      resolve(out.includes('DONE'));
    });
  });
}

interface Final {
  outputs: Map<string, string>;
  statuses: string[];
  effects: Map<string, string>;
  requests: number;
  succeededTasks: number;
}

function read(db: string, effects: string): Final {
  const wf = new Database(db, { readonly: true });
  const rows = wf.prepare('SELECT name, status, output FROM wf_executions ORDER BY name').all() as {
    name: string;
    status: string;
    output: string;
  }[];
  const succeededTasks = (
    wf
      .prepare(
        "SELECT COUNT(*) AS n FROM wf_history, json_each(wf_history.events) WHERE json_each.value ->> 'type' = 'TaskSucceeded'",
      )
      .get() as { n: number }
  ).n;
  wf.close();
  const fx = new Database(effects, { readonly: true });
  const eff = fx.prepare('SELECT key, value FROM effects').all() as { key: string; value: string }[];
  const requests = (fx.prepare('SELECT COUNT(*) AS n FROM requests').get() as { n: number }).n;
  fx.close();
  return {
    outputs: new Map(rows.map((r) => [r.name, r.output])),
    statuses: rows.map((r) => r.status),
    effects: new Map(eff.map((e) => [e.key, e.value])),
    requests,
    succeededTasks,
  };
}

describe('crash safety (SIGKILL at random points of long runbooks)', () => {
  it('every execution completes with the uninterrupted output and no side effect applied twice', async () => {
    const clean = { db: join(dir, 'clean.db'), effects: join(dir, 'clean-effects.db') };
    expect(await runWorker(clean.db, clean.effects)).toBe(true);
    const expected = read(clean.db, clean.effects);
    expect(expected.statuses).toEqual(Array(EXECUTIONS).fill('SUCCEEDED'));

    const crashy = { db: join(dir, 'crashy.db'), effects: join(dir, 'crashy-effects.db') };
    let kills = 0;
    // A seeded sequence of kill delays so a failure can be replayed; spread over the whole runbook.
    let seed = 7;
    const nextDelay = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return 100 + (seed % 1200);
    };
    let finished = false;
    for (let i = 0; i < 25 && !finished; i += 1) {
      finished = await runWorker(crashy.db, crashy.effects, nextDelay());
      if (!finished) kills += 1;
    }
    if (!finished) finished = await runWorker(crashy.db, crashy.effects);
    expect(finished).toBe(true);
    expect(kills).toBeGreaterThan(0);

    const got = read(crashy.db, crashy.effects);
    expect(got.statuses).toEqual(Array(EXECUTIONS).fill('SUCCEEDED'));
    expect(got.outputs).toEqual(expected.outputs);
    // The same idempotency keys acted, with the same results: no extra key means no duplicated side effect.
    expect([...got.effects.keys()].sort()).toEqual([...expected.effects.keys()].sort());
    expect(got.effects).toEqual(expected.effects);
    expect(got.succeededTasks).toBe(expected.succeededTasks);
    expect(got.requests).toBeGreaterThanOrEqual(expected.requests);
    console.log(
      `crash test: ${kills} SIGKILLs; ${got.requests} task requests for ${got.effects.size} side effects (clean run: ${expected.requests})`,
    );
  }, 600_000);
});
