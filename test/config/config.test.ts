import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configJsonSchema, interpolateEnv, loadConfig, parseConfig } from '../../src/config/load.ts';
import { unstartedRunbooks } from '../../src/config/references.ts';
import { assertExposureIsAuthenticated } from '../../src/http/auth.ts';
import { tempDir } from '../support/app.ts';

const dirs: { remove: () => void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

function write(text: string): { dir: string; file: string } {
  const d = tempDir();
  dirs.push(d);
  const file = join(d.path, 'rebound.yaml');
  writeFileSync(file, text);
  return { dir: d.path, file };
}

describe('configuration', () => {
  it('uses built-in defaults when no file is present', async () => {
    const d = tempDir();
    dirs.push(d);
    const { config, source } = await loadConfig({ cwd: d.path });
    expect(source).toBeUndefined();
    expect(config.server.listen).toBe('127.0.0.1:8080');
    expect(config.dataDir).toBe(join(d.path, '.rebound'));
    expect(config.incidents.correlation.labels).toEqual(['alertname', 'namespace', 'service', 'cluster']);
    expect(config.incidents.retention.maxAgeDays).toBe(90);
  });

  it('finds rebound.yaml in the working directory and interpolates ${ENV} inside values only', async () => {
    const { dir } = write(
      'server:\n  listen: 0.0.0.0:9000\n  auth:\n    webhookTokens: ["${AM_TOKEN}"]\n    apiTokens: [{name: ci, role: admin, token: "${API_TOKEN:-default-token-0123456789}"}]\n',
    );
    const { config, source } = await loadConfig({
      cwd: dir,
      env: { AM_TOKEN: 'tok: "with yaml chars" 0123456789' },
    });
    expect(source).toBe(join(dir, 'rebound.yaml'));
    expect(config.server.auth.webhookTokens).toEqual(['tok: "with yaml chars" 0123456789']);
    expect(config.server.auth.apiTokens[0]!.token).toBe('default-token-0123456789');
  });

  it('names unset variables', () => {
    expect(() => interpolateEnv('${A} ${B:-x} ${C}', {}, 'f.yaml')).toThrow(
      /unset environment variable\(s\) A, C/,
    );
    expect(interpolateEnv('$${A}', {}, 'f')).toBe('${A}');
  });

  it('rejects unknown keys and wrong types with their key paths and expected types', async () => {
    const { file } = write(
      'server:\n  listen: 8080\n  lisen: x\nincidents:\n  retention:\n    maxAgeDays: "ninety"\nbogus: 1\n',
    );
    const err = await loadConfig({ path: file }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    expect(message).toMatch(/server\.listen: .*expected string/);
    expect(message).toMatch(/server: unknown key\(s\) "lisen"/);
    expect(message).toMatch(/incidents\.retention\.maxAgeDays: .*expected number/);
    expect(message).toMatch(/\(top level\): unknown key\(s\) "bogus"/);
  });

  it('reports YAML syntax errors and a missing explicit file', async () => {
    const { file } = write('server: [unclosed\n');
    await expect(loadConfig({ path: file })).rejects.toThrow(/not valid YAML at line 2, column 1: /);
    // The message names the place but never quotes the file: its lines may hold secrets.
    const secret = write('server:\n  auth:\n    webhookTokens: [hunter2-secret-token\n  x: [1,\n');
    const err = (await loadConfig({ path: secret.file }).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/not valid YAML at line \d+, column \d+/);
    expect(err.message).not.toContain('hunter2');
    await expect(loadConfig({ path: '/nonexistent/rebound.yaml' })).rejects.toThrow(/does not exist/);
  });

  it('refuses to listen beyond loopback without webhook and API authentication', () => {
    const exposed = parseConfig({ server: { listen: '0.0.0.0:8080' } });
    expect(() => assertExposureIsAuthenticated(exposed.server)).toThrow(/webhookTokens.*apiTokens/);
    const ok = parseConfig({
      server: {
        listen: '0.0.0.0:8080',
        auth: {
          webhookTokens: ['a-long-enough-token-123'],
          apiTokens: [{ name: 'ops', role: 'admin', token: 'another-long-token-123' }],
        },
      },
    });
    expect(() => assertExposureIsAuthenticated(ok.server)).not.toThrow();
    for (const listen of ['127.0.0.1:8080', 'localhost:1', '[::1]:8080']) {
      expect(() => assertExposureIsAuthenticated(parseConfig({ server: { listen } }).server)).not.toThrow();
    }
  });

  it('bounds durations that become timers (Node fires one set past ~24.8 days at once) and day counts', () => {
    expect(() => parseConfig({ incidents: { retention: { sweepIntervalSeconds: 2_592_000 } } })).toThrow(
      /incidents\.retention\.sweepIntervalSeconds: .*<=\s*86400/,
    );
    expect(() => parseConfig({ incidents: { retention: { maxAgeDays: 999_999_999 } } })).toThrow(
      /incidents\.retention\.maxAgeDays/,
    );
    expect(() => parseConfig({ guard: { lock: { ttl: '30d' } } })).toThrow(/guard\.lock\.ttl: at most 1d/);
    expect(() => parseConfig({ server: { listen: '127.0.0.1:99999' } })).toThrow(/65535 or less/);
    expect(parseConfig({ guard: { lock: { ttl: '1d' } } }).guard.lock.ttl).toBe(86_400_000);
  });

  it('refuses webhook target headers that the connection or Rebound sets, in any case', () => {
    const withHeaders = (headers: Record<string, string>) =>
      parseConfig({
        bus: {
          rules: [
            {
              name: 'r',
              pattern: { source: ['x'] },
              targets: [{ kind: 'webhook', id: 'w', url: 'https://hooks.example.com/in', headers }],
            },
          ],
        },
      });
    expect(() => withHeaders({ Authorization: 'Bearer t', 'X-Team': 'sre' })).not.toThrow();
    for (const name of ['Content-Type', 'transfer-encoding', 'X-Rebound-Signature', 'Host'])
      expect(() => withHeaders({ [name]: 'v' })).toThrow(/set by Rebound or by the connection/);
    expect(() => withHeaders({ 'bad header': 'v' })).toThrow(/"bad header" is not an HTTP header name/);
  });

  it('publishes a JSON Schema that describes the sections and their defaults', () => {
    const schema = configJsonSchema() as {
      properties: Record<string, { properties?: Record<string, unknown> }>;
      additionalProperties: boolean;
    };
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['server', 'store', 'ingest', 'incidents']),
    );
    expect(schema.properties['server']!.properties!['listen']).toMatchObject({
      default: '127.0.0.1:8080',
      type: 'string',
    });
  });
});

describe('the shipped example configuration', () => {
  it('examples/rebound.yaml is valid and exercises every section', async () => {
    const { config } = await loadConfig({
      path: join(import.meta.dirname, '..', '..', 'examples', 'rebound.yaml'),
      env: {},
    });
    // Its own rule beside the default ones, so the runbooks it routes to do start.
    expect(config.bus.rules.map((r) => r.name)).toEqual([
      'alerts-to-incidents',
      'runbook.high-error-rate',
      'runbook.high-latency',
      'runbook.bad-deploy',
      'runbook.node-not-ready',
      'runbook.unknown-alert',
      'escalations-followup.pagerduty',
      'escalations-followup.slack',
      'audit-error-rate',
    ]);
    expect(unstartedRunbooks(config)).toEqual([]);
    expect(config.guard.allowlist.namespaces).toEqual(['shop']);
    expect(config.kubernetes.clusters['prod']).toBeDefined();
    expect(config.notify.slack).toBeDefined();
  });
});
