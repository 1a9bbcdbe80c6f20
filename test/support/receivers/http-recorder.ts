import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request exactly as it arrived: raw body bytes as text, headers as Node parsed them. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface ScriptedResponse {
  readonly status: number;
  readonly headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON. */
  readonly body?: unknown;
  /** Never answer (until the recorder closes): for client time-out tests. */
  readonly hang?: boolean;
  /** Answer this much later: for what happens while a client waits. */
  readonly delayMs?: number;
}

export type Responder = (request: RecordedRequest) => ScriptedResponse;

/**
 * A loopback HTTP server (127.0.0.1, port 0) that records every request and answers from a script: queued
 * one-off responses first (`script(...)`), then the receiver's default behaviour.
 */
export class HttpRecorder {
  readonly requests: RecordedRequest[] = [];
  readonly #queue: ScriptedResponse[] = [];
  readonly #server: Server;
  #url = '';

  private constructor(private readonly responder: Responder) {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const recorded: RecordedRequest = {
          method: req.method ?? 'GET',
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        this.requests.push(recorded);
        const answer = this.#queue.shift() ?? this.responder(recorded);
        if (answer.hang) return;
        const isText = typeof answer.body === 'string';
        const payload =
          answer.body === undefined ? '' : isText ? (answer.body as string) : JSON.stringify(answer.body);
        const type = isText ? 'text/plain; charset=utf-8' : 'application/json';
        const send = () =>
          res.writeHead(answer.status, { 'content-type': type, ...answer.headers }).end(payload);
        if (answer.delayMs) setTimeout(send, answer.delayMs);
        else send();
      });
    });
  }

  /** Starts a recorder on 127.0.0.1 with an OS-chosen port. */
  static async start(responder: Responder): Promise<HttpRecorder> {
    const recorder = new HttpRecorder(responder);
    await new Promise<void>((resolve) => recorder.#server.listen(0, '127.0.0.1', resolve));
    const { port } = recorder.#server.address() as AddressInfo;
    recorder.#url = `http://127.0.0.1:${port}`;
    return recorder;
  }

  get url(): string {
    return this.#url;
  }

  /** Queues responses for the next requests, in order, before the default behaviour resumes. */
  script(...responses: ScriptedResponse[]): this {
    this.#queue.push(...responses);
    return this;
  }

  /** Bodies of recorded requests parsed as JSON. */
  jsonBodies(): unknown[] {
    return this.requests.map((r) => JSON.parse(r.body) as unknown);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
