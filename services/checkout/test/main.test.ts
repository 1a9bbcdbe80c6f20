import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

/** The entry point as a real process, the way the Kubernetes stand-in and the demo run replicas. */

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));

const children: ChildProcess[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

function run(env: Record<string, string>) {
  const child = spawn(TSX, [MAIN], { env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: 'pipe' });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', () => {
      const match = /listening (http:\/\/\S+)/.exec(stdout);
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  // Observed here so a test that expects an early exit does not leave an unhandled rejection behind.
  listening.catch(() => undefined);
  return { child, listening, exited, output: () => ({ stdout, stderr }) };
}

/** Serves one ConfigMap the way the API server does, with a key the test flips. */
async function configMapApi(value: () => string): Promise<string> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'ConfigMap', data: { degraded_mode: value() } }));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `http://127.0.0.1:${address.port}`;
}

describe('main.ts', () => {
  it('serves on the port from the environment, follows the ConfigMap, and exits 0 on SIGTERM', async () => {
    let flag = 'false';
    const apiUrl = await configMapApi(() => flag);
    const proc = run({
      PORT: '0',
      LOG_LEVEL: 'silent',
      ERROR_RATE: '1',
      KUBERNETES_API_URL: apiUrl,
      CONFIGMAP_NAME: 'checkout-flags',
      CONFIG_POLL_INTERVAL_MS: '50',
    });
    const url = await proc.listening;
    const cart = { items: [{ sku: 'MUG-001', quantity: 1 }], payment: { token: 'tok_visa' } };
    const post = () =>
      fetch(url + '/checkout', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(cart),
      });
    expect((await post()).status).toBe(503);
    flag = 'true';
    // The poller picks the change up on its own; wait for the behaviour, not for a duration.
    let status = 0;
    for (let i = 0; i < 200 && status !== 201; i++) {
      status = (await post()).status;
      if (status !== 201) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(status).toBe(201);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  });

  it('exits 2 with every configuration problem on stderr', async () => {
    const proc = run({ ERROR_RATE: '2', PORT: 'x' });
    expect(await proc.exited).toBe(2);
    expect(proc.output().stderr).toMatch(
      /invalid checkout configuration:\n {2}- PORT=x.*\n {2}- ERROR_RATE=2/,
    );
  });
});
