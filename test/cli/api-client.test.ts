import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveBaseUrl } from '../../src/cli/client.ts';
import { runCli } from '../support/process.ts';

// Servers that are not (healthy) Rebound servers, to see what the CLI says about them.
const servers: Server[] = [];
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** Accepts connections and never answers. */
function silentServer(): Promise<string> {
  return listen(createTcpServer((socket) => void sockets.push(socket)));
}

function httpServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  return listen(createHttpServer(handler));
}

describe('rebound CLI against a server that is not a healthy Rebound', () => {
  it('gives up after --timeout when the server accepts the connection but never answers', async () => {
    const url = await silentServer();
    const r = await runCli(['--timeout', '1', 'incidents', 'list'], { env: { REBOUND_URL: url } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no answer from ${url}/v1/incidents`);
    expect(r.stderr).toMatch(/within 1 s.*--timeout <seconds>/);
  });

  it('says a server answering 5xx in another shape (Rebound shutting down, a proxy) is unavailable', async () => {
    const url = await httpServer((_req, res) => {
      // What Fastify answers by itself while the server closes (return503OnClosing).
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"error":"Service Unavailable","message":"Service Unavailable","statusCode":503}');
    });
    const r = await runCli(['incidents', 'list'], { env: { REBOUND_URL: url } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the server at ${url}/v1/incidents`);
    expect(r.stderr).toMatch(/is unavailable \(HTTP 503\); try again shortly/);
  });

  it('says how to give a token when the server asks for one, or that the one given was refused', async () => {
    const url = await httpServer((req, res) => {
      const sent = req.headers.authorization !== undefined;
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' });
      res.end(
        JSON.stringify({
          code: 'UNAUTHORIZED',
          message: sent ? 'API token not accepted' : 'missing API token: send Authorization: Bearer <token>',
        }),
      );
    });
    const [missing, wrong] = await Promise.all([
      runCli(['incidents', 'list'], { env: { REBOUND_URL: url } }),
      runCli(['--token', 'wrong-token-0123456789', 'incidents', 'list'], { env: { REBOUND_URL: url } }),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      'missing API token: send Authorization: Bearer <token>; give an API token with --token or REBOUND_TOKEN',
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(
      "API token not accepted; check the token given with --token or REBOUND_TOKEN against the server's server.auth.apiTokens",
    );
  });

  it('refuses a time that does not exist or has no offset, before sending anything', async () => {
    const [rolled, local] = await Promise.all([
      runCli(['incidents', 'list', '--since', '2026-02-30T00:00:00Z'], {
        env: { REBOUND_URL: 'http://127.0.0.1:1' },
      }),
      runCli(['incidents', 'list', '--since', '2026-01-31T18:00'], {
        env: { REBOUND_URL: 'http://127.0.0.1:1' },
      }),
    ]);
    for (const r of [rolled, local]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/is not an ISO-8601 time with an offset/);
    }
  });

  it('refuses a time range that ends before it starts, naming both flags', async () => {
    const env = { REBOUND_URL: 'http://127.0.0.1:1' };
    const [incidents, replay] = await Promise.all([
      runCli(['incidents', 'list', '--since', '2026-02-01T00:00:00Z', '--until', '2026-01-01T00:00:00Z'], {
        env,
      }),
      runCli(['replay', '--from', '2026-02-01T00:00:00Z', '--to', '2026-01-01T00:00:00Z'], { env }),
    ]);
    expect(incidents.code).toBe(2);
    expect(incidents.stderr).toMatch(/--until \(2026-01-01T00:00:00\.000Z\) must be after --since/);
    expect(replay.code).toBe(2);
    expect(replay.stderr).toMatch(/--to \(2026-01-01T00:00:00\.000Z\) must be after --from/);
  });

  it('documents --timeout, and refuses a bad value as a usage error', async () => {
    const [help, bad, badEnv] = await Promise.all([
      runCli(['--help']),
      runCli(['--timeout', '0', 'incidents', 'list']),
      runCli(['incidents', 'list'], { env: { REBOUND_TIMEOUT: 'soon' } }),
    ]);
    expect(help.stdout).toMatch(
      /--timeout <seconds>\s+give up on an API answer[^-]*\(env\s+REBOUND_TIMEOUT; default 30\)/,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--timeout.*'0' is invalid/);
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toMatch(/REBOUND_TIMEOUT "soon": expected seconds/);
  });

  it('takes REBOUND_TIMEOUT when --timeout is not given', async () => {
    const url = await silentServer();
    const r = await runCli(['incidents', 'list'], { env: { REBOUND_URL: url, REBOUND_TIMEOUT: '1' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/within 1 s/);
  });

  it('applies --timeout to each poll of a replay, not to the whole replay', async () => {
    let polls = 0;
    const progress = (state: string) => ({
      id: 'replay-1',
      state,
      dryRun: true,
      total: 3,
      scanned: state === 'running' ? 1 : 3,
      matched: 2,
      deliveries: 2,
    });
    const url = await httpServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST') res.statusCode = 202;
      // Still running for longer than --timeout, answering each poll at once.
      else polls++;
      res.end(JSON.stringify(progress(req.method === 'POST' || polls < 12 ? 'running' : 'completed')));
    });
    const r = await runCli([
      '--url',
      url,
      '--timeout',
      '1',
      'replay',
      '--from',
      '2026-01-01T00:00:00Z',
      '--to',
      '2026-01-02T00:00:00Z',
      '--dry-run',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('replay replay-1: scanned 3 event(s), 2 matched, would deliver 2 deliveries');
  });

  it('says "not a Rebound API" for HTML, empty, non-object and wrongly shaped answers', async () => {
    const url = await httpServer((req, res) => {
      const path = req.url!.split('?')[0]!;
      if (path === '/v1/incidents') {
        res.writeHead(404, { 'content-type': 'text/html' }).end('<!DOCTYPE HTML><html>File not found</html>');
      } else if (path === '/v1/workflows') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"hello":"world"}');
      } else if (path === '/v1/executions') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
      } else {
        res.writeHead(404).end();
      }
    });
    const runs = await Promise.all(
      [
        ['incidents', 'list'],
        ['workflows', 'list'],
        ['executions', 'list'],
        ['approvals', 'list'],
      ].map((args) => runCli(['--url', url, ...args])),
    );
    const paths = ['/v1/incidents?limit=50', '/v1/workflows', '/v1/executions?limit=50', '/v1/approvals?'];
    const statuses = [404, 200, 200, 404];
    runs.forEach((r, i) => {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`not a Rebound API: HTTP ${statuses[i]} from ${url}${paths[i]}`);
      expect(r.stderr).not.toMatch(/Cannot read properties|DOCTYPE|\(HTTP_404\)/);
    });
  });

  it('refuses a URL that is not http(s) as a usage error naming where it came from', async () => {
    const [noScheme, notUrl, ftp] = await Promise.all([
      runCli(['incidents', 'list'], { env: { REBOUND_URL: 'localhost:18181' } }),
      runCli(['--url', 'notaurl', 'incidents', 'list']),
      runCli(['--url', 'ftp://127.0.0.1/', 'approvals', 'list']),
    ]);
    expect(noScheme.code).toBe(2);
    expect(noScheme.stderr).toMatch(/REBOUND_URL "localhost:18181" is not an http:\/\/ or https:\/\/ URL/);
    expect(notUrl.code).toBe(2);
    expect(notUrl.stderr).toMatch(/--url "notaurl" is not an http:\/\/ or https:\/\/ URL/);
    expect(ftp.code).toBe(2);
    expect(ftp.stderr).toMatch(/--url "ftp:\/\/127\.0\.0\.1\/" is not/);
  });

  it('takes an empty REBOUND_URL as unset, and says a token with a line break is invalid', async () => {
    // Decided without a request: whatever listens on the default port here must not matter.
    expect(resolveBaseUrl(undefined, '')).toBe('http://127.0.0.1:8080');
    expect(resolveBaseUrl(undefined, 'http://10.0.0.1:9000/')).toBe('http://10.0.0.1:9000');
    // Credentials in the URL are refused without being repeated: the token goes in --token.
    expect(() => resolveBaseUrl('http://u:SECRET@10.0.0.1:9000', undefined)).toThrow(
      /^--url carries credentials \(user:password@\); give the API token with --token or REBOUND_TOKEN instead$/,
    );
    expect(resolveBaseUrl('http://127.0.0.1:1', 'http://10.0.0.1:9000')).toBe('http://127.0.0.1:1');
    const token = await runCli(['incidents', 'list'], {
      env: { REBOUND_URL: 'http://127.0.0.1:1', REBOUND_TOKEN: 'rbd_a\nb' },
    });
    expect(token.code).toBe(2);
    expect(token.stderr).toMatch(/the API token \(REBOUND_TOKEN\) is invalid: it contains a line break/);
    expect(token.stderr).not.toMatch(/cannot reach/);
  });
});
