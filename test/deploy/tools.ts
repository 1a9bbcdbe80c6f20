import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Finds the real Prometheus tools (Debian's `prometheus` and `prometheus-alertmanager` packages). Absent
 * tools fail the suite under CI=true and skip it elsewhere with the command that installs them.
 */

export const INSTALL_HINT = 'apt-get install prometheus prometheus-alertmanager';

export function findTool(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** The tool's path, or undefined after saying how to install it; throws under CI so a skip cannot hide. */
export function requireTool(name: string): string | undefined {
  const path = findTool(name);
  if (path) return path;
  const message = `${name} is not installed; these tests need it. Install with: ${INSTALL_HINT}`;
  if (process.env['CI'] === 'true') throw new Error(message);
  console.warn(`skipping: ${message}`);
  return undefined;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a tool to completion; a non-zero exit is a result, not an exception, so tests can assert on it. */
export function run(file: string, args: readonly string[], cwd?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(err);
        return;
      }
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}
