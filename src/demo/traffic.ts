import type { PodEndpoint } from '../kube-sim/index.ts';

/**
 * The demo's shoppers: steady POST /checkout and GET /products, spread round-robin over the ready checkout
 * pods (what a Service would do), so Prometheus always has a request rate to judge.
 */

const CART = JSON.stringify({
  items: [
    { sku: 'MUG-001', quantity: 1 },
    { sku: 'TEE-002', quantity: 2 },
  ],
  payment: { token: 'tok_visa' },
});

export interface TrafficStats {
  sent: number;
  ok: number;
  failed: number;
}

export class Traffic {
  private timer: NodeJS.Timeout | undefined;
  private next = 0;
  private inFlight = 0;
  readonly stats: TrafficStats = { sent: 0, ok: 0, failed: 0 };

  constructor(
    private readonly endpoints: () => PodEndpoint[],
    private readonly ratePerSecond = 30,
  ) {}

  start(): void {
    const every = Math.max(5, Math.round(1000 / this.ratePerSecond));
    this.timer = setInterval(() => this.fire(), every);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private fire(): void {
    const ready = this.endpoints();
    if (ready.length === 0 || this.inFlight > 200) return;
    const target = ready[this.next++ % ready.length]!;
    const products = this.next % 5 === 0;
    this.inFlight++;
    this.stats.sent++;
    fetch(`${target.url}${products ? '/products' : '/checkout'}`, {
      method: products ? 'GET' : 'POST',
      ...(products ? {} : { headers: { 'content-type': 'application/json' }, body: CART }),
      signal: AbortSignal.timeout(5000),
    })
      .then(
        async (res) => {
          await res.body?.cancel();
          if (res.ok) this.stats.ok++;
          else this.stats.failed++;
        },
        () => void this.stats.failed++,
      )
      .finally(() => this.inFlight--);
  }
}
