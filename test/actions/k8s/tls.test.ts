import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterDirectory, kubernetesConfigSchema } from '../../../src/actions/k8s/config.ts';
import { restartAction } from '../../../src/actions/k8s/restart.ts';
import type { K8sActionDeps } from '../../../src/actions/k8s/shared.ts';
import type { ActionContext } from '../../../src/actions/types.ts';
import {
  KubeApiDouble,
  seedDeployment,
  selfSignedCertificate,
  writeKubeconfig,
} from '../../support/k8s-api/index.ts';

/** Real clusters speak HTTPS with a private CA and bearer tokens; the action path must honour both. */
describe('actions over HTTPS with a CA and a bearer token', () => {
  let dir: string;
  let api: KubeApiDouble;
  let cert: { key: string; cert: string };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'k8s-tls-'));
    cert = await selfSignedCertificate(dir);
    api = new KubeApiDouble({ tls: cert, token: 's3cret' });
    await api.start();
    seedDeployment(api, { namespace: 'shop', name: 'web' });
  });
  afterAll(async () => {
    await api.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const ctx: ActionContext = {
    idempotencyKey: 'k',
    shadow: false,
    signal: new AbortController().signal,
    now: () => new Date('2026-01-02T03:04:05Z'),
  };
  const depsFor = (kubeconfig: string): K8sActionDeps => ({
    clusters: new ClusterDirectory(
      kubernetesConfigSchema.parse({ clusters: { prod: { kubeconfig } }, preflightDryRun: false }),
    ),
  });

  it('verifies the server against the kubeconfig CA and sends the token', async () => {
    expect(api.url).toMatch(/^https:/);
    const file = await writeKubeconfig(dir, api.url, 'good', { ca: cert.cert, token: 's3cret' });
    const action = restartAction(depsFor(file));
    const res = await action.run(action.params.parse({ namespace: 'shop', name: 'web' }), ctx);
    expect(res.writes).toHaveLength(1);
    expect(api.writes()).toHaveLength(1);
  });

  it('a wrong token is a non-retryable 401', async () => {
    const file = await writeKubeconfig(dir, api.url, 'badtoken', { ca: cert.cert, token: 'nope' });
    const action = restartAction(depsFor(file));
    await expect(
      action.run(action.params.parse({ namespace: 'shop', name: 'web' }), ctx),
    ).rejects.toMatchObject({ status: 401, retryable: false });
  });

  it('an untrusted server certificate is refused before anything is sent', async () => {
    const other = await selfSignedCertificate(await mkdtemp(join(dir, 'other-')));
    const file = await writeKubeconfig(dir, api.url, 'badca', { ca: other.cert, token: 's3cret' });
    const before = api.requests.length;
    const action = restartAction(depsFor(file));
    const err = await action
      .run(action.params.parse({ namespace: 'shop', name: 'web' }), ctx)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: 'TLSError', retryable: false });
    expect(api.requests.length).toBe(before);
  });

  it('a server that is not there is Unreachable and retryable', async () => {
    const gone = new KubeApiDouble();
    const url = await gone.start();
    await gone.stop();
    const file = await writeKubeconfig(dir, url, 'gone');
    const action = restartAction(depsFor(file));
    await expect(
      action.run(action.params.parse({ namespace: 'shop', name: 'web' }), ctx),
    ).rejects.toMatchObject({ reason: 'Unreachable', retryable: true });
  });

  it('an aborted signal cancels the action without writing', async () => {
    const file = await writeKubeconfig(dir, api.url, 'abort', { ca: cert.cert, token: 's3cret' });
    const controller = new AbortController();
    controller.abort();
    const before = api.writes().length;
    const action = restartAction(depsFor(file));
    await expect(
      action.run(action.params.parse({ namespace: 'shop', name: 'web' }), {
        ...ctx,
        signal: controller.signal,
      }),
    ).rejects.toMatchObject({
      reason: 'Cancelled',
      retryable: false,
    });
    expect(api.writes().length).toBe(before);
  });

  it.each([
    // An API server behind a black-holed load balancer: the connection opens, the answer never comes.
    ['never answers', () => undefined],
    // Or the headers come and the body stalls (client-node reads it after the exchange has returned).
    [
      'sends its headers and stalls',
      (_req: IncomingMessage, res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"kind":');
      },
    ],
  ])('a server that takes the request and %s fails it as a retryable Timeout', async (_, answer) => {
    const silent = createServer(answer);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const file = await writeKubeconfig(dir, url, 'silent');
      const deps: K8sActionDeps = {
        clusters: new ClusterDirectory(
          kubernetesConfigSchema.parse({ clusters: { prod: { kubeconfig: file } }, requestTimeoutMs: 200 }),
        ),
      };
      const action = restartAction(deps);
      const err = await action
        .run(action.params.parse({ namespace: 'shop', name: 'web' }), ctx)
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ reason: 'Timeout', status: 0, retryable: true, code: 'K8s.Timeout' });
      expect((err as Error).message).toMatch(
        /did not answer within 200 ms \(kubernetes.requestTimeoutMs\); a write may or may not have been applied$/,
      );
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});
