import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FlagValueError,
  FlagWatcher,
  configMapFlagSource,
  fileFlagSource,
  parseFlag,
} from '../src/flag-source.ts';
import type { FlagSource } from '../src/flag-source.ts';

const signal = new AbortController().signal;

describe('parseFlag', () => {
  it.each([
    ['true', true],
    [' TRUE\n', true],
    ['1', true],
    ['on', true],
    ['enabled', true],
    ['false', false],
    ['0', false],
    ['', false],
    ['off\n', false],
  ])('%j → %s', (text, value) => {
    expect(parseFlag(text)).toBe(value);
  });

  it('rejects anything else, naming the source and the accepted spellings', () => {
    expect(() => parseFlag('maybe', 'file:/x')).toThrow(FlagValueError);
    expect(() => parseFlag('maybe', 'file:/x')).toThrow(/file:\/x holds "maybe"; write true or false/);
  });
});

describe('fileFlagSource', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'checkout-flag-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the mounted key, and holds no value while the file is missing', async () => {
    const path = join(dir, 'degraded_mode');
    const source = fileFlagSource(path);
    expect(source.name).toBe(`file:${path}`);
    expect(await source.read(signal)).toBeUndefined();
    await writeFile(path, 'true\n');
    expect(await source.read(signal)).toBe(true);
    await writeFile(path, 'false');
    expect(await source.read(signal)).toBe(false);
  });

  it('reports read errors other than a missing file', async () => {
    await expect(fileFlagSource(dir).read(signal)).rejects.toThrow(/EISDIR/);
  });
});

/** A minimal stand-in for the API server's ConfigMap GET, answering from a mutable map. */
class ConfigMapApi {
  readonly configMaps = new Map<string, Record<string, unknown>>();
  readonly requests: { url: string; headers: IncomingHttpHeaders }[] = [];
  status: number | undefined;
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.requests.push({ url: req.url ?? '', headers: req.headers });
      if (this.status !== undefined) {
        res.writeHead(this.status).end('{"kind":"Status","message":"forbidden"}');
        return;
      }
      const match = /^\/api\/v1\/namespaces\/([^/]+)\/configmaps\/([^/]+)$/.exec(req.url ?? '');
      const data = match ? this.configMaps.get(`${match[1]}/${match[2]}`) : undefined;
      if (!data) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"kind":"Status","code":404}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: match![2] }, data }));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    this.url = `http://127.0.0.1:${address.port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

describe('configMapFlagSource', () => {
  const api = new ConfigMapApi();
  let dir: string;
  beforeEach(async () => {
    await api.start();
    dir = await mkdtemp(join(tmpdir(), 'checkout-token-'));
  });
  afterEach(async () => {
    await api.stop();
    await rm(dir, { recursive: true, force: true });
    api.configMaps.clear();
    api.requests.length = 0;
    api.status = undefined;
  });

  it('reads one key of the ConfigMap with the bearer token from a file, re-read on every call', async () => {
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'first\n');
    const source = configMapFlagSource({
      apiUrl: api.url + '/',
      namespace: 'shop',
      name: 'checkout-flags',
      key: 'degraded_mode',
      tokenFile,
    });
    expect(source.name).toBe('configmap:shop/checkout-flags#degraded_mode');
    expect(await source.read(signal)).toBeUndefined(); // no ConfigMap yet
    api.configMaps.set('shop/checkout-flags', { other: 'x' });
    expect(await source.read(signal)).toBeUndefined(); // no key yet
    api.configMaps.set('shop/checkout-flags', { degraded_mode: 'true' });
    await writeFile(tokenFile, 'rotated');
    expect(await source.read(signal)).toBe(true);
    expect(api.requests.map((r) => r.url)).toEqual(
      Array(3).fill('/api/v1/namespaces/shop/configmaps/checkout-flags'),
    );
    expect(api.requests[0]!.headers.authorization).toBe('Bearer first');
    expect(api.requests[2]!.headers.authorization).toBe('Bearer rotated');
  });

  it('sends an inline token, and says what to check when the API refuses', async () => {
    const source = configMapFlagSource({ apiUrl: api.url, namespace: 'a', name: 'b', key: 'k', token: 't' });
    api.status = 403;
    await expect(source.read(signal)).rejects.toThrow(/answered 403.*RBAC/);
    expect(api.requests[0]!.headers.authorization).toBe('Bearer t');
  });

  it('rejects a value that is not a boolean spelling', async () => {
    const source = configMapFlagSource({ apiUrl: api.url, namespace: 'a', name: 'b', key: 'k' });
    api.configMaps.set('a/b', { k: 'sometimes' });
    await expect(source.read(signal)).rejects.toBeInstanceOf(FlagValueError);
    api.configMaps.set('a/b', { k: 1 });
    await expect(source.read(signal)).rejects.toBeInstanceOf(FlagValueError);
    expect(api.requests[0]!.headers.authorization).toBeUndefined();
  });
});

function scripted(values: (boolean | undefined | Error)[]): FlagSource {
  return {
    name: 'scripted',
    async read() {
      const next = values.length > 1 ? values.shift() : values[0];
      if (next instanceof Error) throw next;
      return next;
    },
  };
}

describe('FlagWatcher', () => {
  it('reports the first value and then only changes, and keeps going after errors', async () => {
    const changes: boolean[] = [];
    const errors: unknown[] = [];
    const watcher = new FlagWatcher(
      scripted([undefined, false, false, new Error('boom'), true, true, false]),
      {
        intervalMs: 60_000,
        onChange: (v) => changes.push(v),
        onError: (e) => errors.push(e),
      },
    );
    await watcher.start(); // undefined: no opinion yet
    for (let i = 0; i < 6; i++) await watcher.poll();
    await watcher.stop();
    expect(changes).toEqual([false, true, false]);
    expect(errors).toHaveLength(1);
  });

  it('polls in the background until stopped', async () => {
    let reads = 0;
    let resolveThird: () => void = () => {};
    const third = new Promise<void>((resolve) => (resolveThird = resolve));
    const source: FlagSource = {
      name: 'counting',
      async read() {
        reads += 1;
        if (reads === 3) resolveThird();
        return reads % 2 === 0;
      },
    };
    const changes: boolean[] = [];
    const watcher = new FlagWatcher(source, {
      intervalMs: 5,
      onChange: (v) => changes.push(v),
      onError: () => {},
    });
    await watcher.start();
    await third;
    await watcher.stop();
    const readsAtStop = reads;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(reads).toBe(readsAtStop);
    expect(changes.slice(0, 3)).toEqual([false, true, false]);
  });
});
