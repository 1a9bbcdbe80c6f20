import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

export interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A local HTTP endpoint (127.0.0.1:0) that records requests and answers with a scripted status. */
export class HttpReceiver {
  readonly received: Received[] = [];
  /** Statuses to answer, in order; when empty, `defaultStatus`. */
  readonly script: number[] = [];
  defaultStatus = 200;
  /** Sent with every answer (e.g. retry-after). */
  answerHeaders: Record<string, string> = {};
  delayMs = 0;
  /** Requests received and not yet answered, and the most there ever were at once. */
  open = 0;
  mostOpen = 0;
  private server: Server | undefined;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      let body = '';
      this.mostOpen = Math.max(this.mostOpen, ++this.open);
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        this.received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
        const status = this.script.shift() ?? this.defaultStatus;
        setTimeout(() => {
          this.open -= 1;
          res.writeHead(status, { 'content-type': 'text/plain', ...this.answerHeaders }).end('ok');
        }, this.delayMs);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  json<T = Record<string, unknown>>(): T[] {
    return this.received.map((r) => JSON.parse(r.body) as T);
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** Polls `check` until it returns true or the bound passes; tests wait on behaviour, not on time. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
