import type { PodEndpoint } from '../kube-sim/index.ts';

/**
 * The demo's shoppers: a number of virtual users, each sending POST /checkout (and every fifth time
 * GET /products), waiting for the answer, thinking briefly, and going again, spread round-robin over the
 * ready checkout pods (what a Service does). Closed-loop users mean a surge of them saturates the pods'
 * capacity (queueing, so latency grows) without an ever-growing backlog: more replicas cure it at once.
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

/** Users in normal times and during the latency scenario's flash sale. */
export const BASELINE_USERS = 3;
export const SURGE_USERS = 20;
const THINK_MS = 200;

export class Traffic {
  private running = false;
  private users = 0;
  private target = 0;
  private next = 0;
  readonly stats: TrafficStats = { sent: 0, ok: 0, failed: 0 };

  constructor(private readonly endpoints: () => PodEndpoint[]) {}

  start(users = BASELINE_USERS): void {
    this.running = true;
    this.setUsers(users);
  }

  /** Changes the number of concurrent users (extra users stop after their current request). */
  setUsers(users: number): void {
    this.target = users;
    while (this.running && this.users < this.target) {
      this.users++;
      void this.user();
    }
  }

  stop(): void {
    this.running = false;
  }

  private async user(): Promise<void> {
    while (this.running && this.users <= this.target) {
      await this.once();
      await new Promise((resolve) => setTimeout(resolve, THINK_MS));
    }
    this.users--;
  }

  private async once(): Promise<void> {
    const ready = this.endpoints();
    if (ready.length === 0) return;
    const target = ready[this.next++ % ready.length]!;
    const products = this.next % 5 === 0;
    this.stats.sent++;
    try {
      const res = await fetch(`${target.url}${products ? '/products' : '/checkout'}`, {
        method: products ? 'GET' : 'POST',
        ...(products ? {} : { headers: { 'content-type': 'application/json' }, body: CART }),
        signal: AbortSignal.timeout(5000),
      });
      await res.body?.cancel();
      if (res.ok) this.stats.ok++;
      else this.stats.failed++;
    } catch {
      this.stats.failed++;
    }
  }
}
