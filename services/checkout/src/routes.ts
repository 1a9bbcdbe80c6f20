import type { FastifyInstance, FastifyReply } from 'fastify';
import { CATALOG, CartError, parseCart, priceCart, productBySku, recommend } from './catalog.ts';
import type { Quote } from './catalog.ts';
import type { Chaos } from './chaos.ts';
import { DependencyError } from './chaos.ts';
import type { CheckoutMetrics } from './metrics.ts';

/** The shop's public routes: the catalogue and checkout. */

export interface ShopDeps {
  readonly chaos: Chaos;
  readonly metrics: CheckoutMetrics;
  readonly newOrderId: () => string;
}

export interface Order extends Quote {
  readonly orderId: string;
  readonly status: 'charged';
  readonly degraded: boolean;
  readonly priceSource: 'live' | 'cache';
  readonly recommendations: readonly string[];
}

/** Remembered charges by Idempotency-Key, so a retried POST never charges twice. Bounded, oldest evicted. */
const IDEMPOTENCY_CAPACITY = 1000;

export function registerShopRoutes(app: FastifyInstance, deps: ShopDeps): void {
  const charged = new Map<string, Order>();

  app.get('/products', async (_request, reply) => {
    const degraded = await priceSourceOrFail(deps, reply);
    if (degraded === null) return reply;
    return {
      degraded,
      priceSource: degraded ? 'cache' : 'live',
      products: CATALOG.map(({ sku, name, priceCents }) => ({ sku, name, priceCents })),
    };
  });

  app.post('/checkout', async (request, reply) => {
    const key = headerValue(request.headers['idempotency-key']);
    const previous = key === undefined ? undefined : charged.get(key);
    if (previous) return reply.code(200).send(previous);
    let cart;
    try {
      cart = parseCart(request.body);
    } catch (err) {
      if (err instanceof CartError) {
        return reply.code(400).send({ error: 'INVALID_CART', message: err.message, path: err.path });
      }
      throw err;
    }
    if (cart.paymentToken === 'tok_declined') {
      return reply
        .code(402)
        .send({ error: 'PAYMENT_DECLINED', message: 'the card was declined; use another token' });
    }
    const degraded = await priceSourceOrFail(deps, reply);
    if (degraded === null) return reply;
    const quote = priceCart(cart, (sku) => productBySku(sku).priceCents);
    const order: Order = {
      orderId: deps.newOrderId(),
      status: 'charged',
      degraded,
      priceSource: degraded ? 'cache' : 'live',
      recommendations: degraded ? [] : recommend(cart),
      ...quote,
    };
    deps.metrics.orders.inc({ mode: degraded ? 'degraded' : 'full' });
    if (key !== undefined) remember(charged, key, order);
    return reply.code(201).send(order);
  });
}

/**
 * Decides where prices come from. In degraded mode the dependency is skipped (cached prices); otherwise it
 * is called under the chaos knobs and a failure answers 503. Returns null once the reply has been sent.
 */
async function priceSourceOrFail(deps: ShopDeps, reply: FastifyReply): Promise<boolean | null> {
  if (deps.chaos.settings.degradedMode) return true;
  try {
    await deps.chaos.callDependency();
    return false;
  } catch (err) {
    if (!(err instanceof DependencyError)) throw err;
    deps.metrics.dependencyFailures.inc();
    await reply
      .code(503)
      .header('retry-after', '1')
      .send({ error: 'DEPENDENCY_UNAVAILABLE', message: err.message });
    return null;
  }
}

function remember(charged: Map<string, Order>, key: string, order: Order): void {
  charged.set(key, order);
  if (charged.size > IDEMPOTENCY_CAPACITY) {
    const oldest = charged.keys().next().value;
    if (oldest !== undefined) charged.delete(oldest);
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v === undefined || v === '' ? undefined : v;
}
