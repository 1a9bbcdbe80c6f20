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
export const BASELINE_USERS = 2;
export const SURGE_USERS = 20;
const THINK_MS = 200;

export class Traffic {
  private running = false;
  /** One token per live user (with its loop); a user whose token is removed stops after its request. */
  private readonly users = new Map<object, Promise<void>>();
  private next = 0;
  readonly stats: TrafficStats = { sent: 0, ok: 0, failed: 0 };

  constructor(private readonly endpoints: () => PodEndpoint[]) {}

  start(users = BASELINE_USERS): void {
    this.running = true;
    void this.setUsers(users);
  }

  /** Changes the number of concurrent users; resolves once the users let go have finished. */
  async setUsers(count: number): Promise<void> {
    while (this.running && this.users.size < count) {
      const token = {};
      this.users.set(token, this.user(token));
    }
    const leaving = [...this.users.entries()].slice(count);
    for (const [token] of leaving) this.users.delete(token);
    await Promise.all(leaving.map(([, loop]) => loop));
  }

  /** The number of users sending requests now. */
  get activeUsers(): number {
    return this.users.size;
  }

  stop(): void {
    this.running = false;
    this.users.clear();
  }

  private async user(token: object): Promise<void> {
    await Promise.resolve(); // registered in the map before the first check
    while (this.running && this.users.has(token)) {
      await this.once();
      await new Promise((resolve) => setTimeout(resolve, THINK_MS));
    }
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
