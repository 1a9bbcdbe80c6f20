import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
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
});
