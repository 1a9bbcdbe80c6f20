import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A scrape target on 127.0.0.1:0 exposing gauges a test flips to make real alerts fire and resolve. */
export class MetricsTarget {
  readonly #values = new Map<string, number>();
  #server!: Server;
  address = '';

  static async start(): Promise<MetricsTarget> {
    const target = new MetricsTarget();
    target.#server = createServer((_req, res) => {
      const lines = [...target.#values].map(([series, value]) => `${series} ${value}`);
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(lines.join('\n') + '\n');
    });
    await new Promise<void>((resolve) => target.#server.listen(0, '127.0.0.1', resolve));
    target.address = `127.0.0.1:${(target.#server.address() as AddressInfo).port}`;
    return target;
  }

  /** Sets a series, written in exposition format, e.g. `rebound_test_fault{service="checkout"}`. */
  set(series: string, value: number): void {
    this.#values.set(series, value);
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
