import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, REPO, runCli } from '../support/process.ts';
import { monitoringUnavailable } from '../support/receivers/monitoring.ts';

/** `rebound demo` as a user runs it: a real child process, its narration, its exit code and its clean-up. */

const unavailable = monitoringUnavailable();

/** Processes whose command line mentions `text` (the demo's pods, Prometheus and Alertmanager name its dir). */
function processesMentioning(text: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) found.push(Number(entry));
    } catch {
      // the process exited while we looked
    }
  }
  return found;
}

const workingDir = (out: string) => /working directory (\S+)/.exec(out)?.[1];

/** A node-not-ready runbook that hands the incident to a human at once and touches nothing. */
const ESCALATING_RUNBOOK = {
  Comment: 'Escalates without acting (rebound demo --once must then exit 1)',
  StartAt: 'Escalate',
  States: {
    Escalate: {
      Type: 'Task',
      Resource: 'rebound:incident.escalate',
      Parameters: {
        'incidentId.$': '$.incidentId',
        reason: 'this runbook never remediates; a human decides',
        remediationFailed: false,
      },
      ResultPath: null,
      Next: 'Escalated',
    },
    Escalated: { Type: 'Fail', Error: 'Rebound.Escalated', Cause: 'handed over to on-call' },
  },
};

describe('rebound demo (CLI)', () => {
  it('explains its scenarios and what to install', async () => {
    const { code, stdout } = await runCli(['demo', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('error-rate');
    expect(stdout).toContain('bad-deploy');
    expect(stdout).toContain('apt-get install prometheus prometheus-alertmanager');
  });

  it('rejects an unknown scenario as a usage error', async () => {
    const { code, stderr } = await runCli(['demo', '--scenario', 'meteor']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/meteor.*(invalid|Allowed choices)|Allowed choices/i);
  });

  it('rejects a --runbooks directory that does not exist as a usage error naming the option', async () => {
    const missing = join(tmpdir(), 'rebound-no-such-runbooks');
    const { code, stdout, stderr } = await runCli(['demo', '--once', '--runbooks', missing]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain(
      `option '--runbooks <dir>' argument '${missing}' is invalid. ${missing} does not exist; give a directory of *.asl.json runbooks`,
    );
  });

  it('without Prometheus and Alertmanager, says how to install them on stderr, exits 1 and starts nothing', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'rebound-demo-nobin-'));
    // The demo's working directory would go under TMPDIR: a fresh one shows whether anything was made.
    const tmp = mkdtempSync(join(tmpdir(), 'rebound-demo-tmp-'));
    try {
      // Neither PATH nor the directories searched after it hold the binaries.
      const { code, stdout, stderr } = await runCli(['demo', '--once', '--install-dirs', empty], {
        env: { PATH: empty, TMPDIR: tmp },
      });
      expect(code, stdout + stderr).toBe(1);
      expect(stderr.split('\n')).toContain('apt-get install prometheus prometheus-alertmanager');
      expect(stderr).toContain(`not installed (looked in PATH, then ${empty})`);
      expect(stdout).toBe('');
      // Only tsx's transform cache (the CLI runs through tsx), no demo directory.
      expect(readdirSync(tmp).filter((entry) => !entry.startsWith('tsx-'))).toEqual([]);
      expect(processesMentioning(tmp)).toEqual([]);
    } finally {
      rmSync(empty, { recursive: true, force: true });
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 90_000);

  it.skipIf(unavailable !== undefined)(
    '--once narrates the loop in order, prints the MTTR, exits 0 and leaves nothing behind',
    async () => {
      const { code, stdout, stderr } = await runCli(['demo', '--scenario', 'node', '--once']);
      expect(code, stdout + stderr).toBe(0);
      const labels = [
        'FAULT INJECTED',
        'ALERT FIRING',
        'INCIDENT OPENED',
        'RUNBOOK STARTED',
        'APPROVAL',
        'REMEDIATION',
        'VERIFIED RESOLVED',
        'INCIDENT RESOLVED',
      ];
      const positions = labels.map((l) => stdout.indexOf(l));
      expect(
        positions.every((p) => p >= 0),
        stdout,
      ).toBe(true);
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);
      expect(stdout).toMatch(/Kubernetes API ← node cordoned \(PATCH nodes\/node-[abc]\)/);
      expect(stdout).toMatch(/fault → incident resolved\s+\d+\.\d s\s+\(MTTR\)/);
      expect(stdout).toMatch(/dashboard: http:\/\/127\.0\.0\.1:\d+\//);
      const dir = workingDir(stdout)!;
      expect(existsSync(dir)).toBe(false);
      expect(processesMentioning(dir)).toEqual([]);
    },
    150_000,
  );

  it.skipIf(unavailable !== undefined)(
    'stops everything it started on Ctrl-C',
    async () => {
      const child = spawn(process.execPath, [CLI, 'demo', '--scenario', 'error-rate'], {
        cwd: REPO,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const deadline = Date.now() + 120_000;
      while (!out.includes('starting Alertmanager') && Date.now() < deadline && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 100));
      const dir = workingDir(out)!;
      expect(processesMentioning(dir).length, out).toBeGreaterThan(0); // pods and Prometheus are running
      child.kill('SIGINT');
      expect(await exited, out).toBe(130);
      expect(out).toContain('stopping:');
      expect(processesMentioning(dir)).toEqual([]);
      expect(existsSync(dir)).toBe(false);
    },
    150_000,
  );

  it.skipIf(unavailable !== undefined)(
    '--once exits 1 when the incident is escalated instead of resolved, and says so',
    async () => {
      const runbooks = mkdtempSync(join(tmpdir(), 'rebound-demo-runbooks-'));
      try {
        writeFileSync(join(runbooks, 'node-not-ready.asl.json'), JSON.stringify(ESCALATING_RUNBOOK));
        const { code, stdout, stderr } = await runCli([
          'demo',
          '--scenario',
          'node',
          '--once',
          '--runbooks',
          runbooks,
        ]);
        expect(code, stdout + stderr).toBe(1);
        // In the order it happened: the runbook escalates the incident, then ends.
        const labels = [
          'FAULT INJECTED',
          'INCIDENT OPENED',
          'RUNBOOK STARTED',
          'ESCALATED',
          'RUNBOOK FINISHED',
        ];
        const positions = labels.map((l) => stdout.indexOf(l));
        expect(
          positions.every((p) => p >= 0),
          stdout,
        ).toBe(true);
        expect([...positions].sort((a, b) => a - b)).toEqual(positions);
        expect(stdout).toMatch(/runbook node-not-ready FAILED \(Rebound\.Escalated/);
        expect(stdout).toMatch(/ESCALATED\s+incident inc_\S+ escalated to a human/);
        expect(stdout).toContain('outcome: escalated');
        expect(stdout).toMatch(/fault → incident resolved\s+n\/a\s+\(MTTR\)/);
        // The only runbook there acts on nothing, and nothing resolved.
        expect(stdout).not.toContain('REMEDIATION');
        expect(stdout).not.toContain('INCIDENT RESOLVED');
        const dir = workingDir(stdout)!;
        expect(existsSync(dir)).toBe(false);
        expect(processesMentioning(dir)).toEqual([]);
      } finally {
        rmSync(runbooks, { recursive: true, force: true });
      }
    },
    180_000,
  );
});
