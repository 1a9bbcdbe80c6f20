import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { LiveChange, LiveNotifier } from '../../live/notifier.ts';

export interface StreamRouteDeps {
  readonly live: LiveNotifier;
  /** Comment line sent this often so proxies keep the connection open (default 15 s). */
  readonly keepAliveMs?: number;
}

/**
 * `GET /v1/stream`: Server-Sent Events, one event per changed object (`incident`, `execution`, `approval`,
 * `dlq`) with `data: {"id": ...}`. Clients re-read what they show; nothing is replayed after a reconnect,
 * so the dashboard reloads its lists when the stream (re)opens (the `ready` event).
 */
export function registerStreamRoutes(app: FastifyInstance, deps: StreamRouteDeps): void {
  const open = new Set<ServerResponse>();

  // Streams never go idle, so the server's close would wait for them: end them first.
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
    open.clear();
  });

  app.get('/v1/stream', { config: { role: 'viewer' } }, async (request, reply) => {
    const res = reply.raw;
    reply.hijack();
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
    });
    // retry: how long the browser waits before reconnecting after a drop.
    res.write(`retry: 2000\nevent: ready\ndata: {}\n\n`);
    open.add(res);
    const send = (changes: readonly LiveChange[]) => {
      let chunk = '';
      for (const change of changes)
        chunk += `event: ${change.kind}\ndata: ${JSON.stringify({ id: change.id })}\n\n`;
      res.write(chunk);
    };
    const unsubscribe = deps.live.subscribe(send);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), deps.keepAliveMs ?? 15_000);
    keepAlive.unref();
    const cleanup = () => {
      clearInterval(keepAlive);
      unsubscribe();
      open.delete(res);
    };
    request.raw.on('close', cleanup);
    res.on('error', cleanup);
  });
}
