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
  const inFlight = new Map<string, Promise<Order | undefined>>();

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
    if (key === undefined) {
      await charge(deps, request.body, reply);
      return reply;
    }
    // A concurrent request with the same key may be charging: answer with its order, or go on if it failed.
    for (let pending = inFlight.get(key); pending; pending = inFlight.get(key)) {
      const order = await pending;
      if (order) return reply.code(200).send(order);
    }
    const previous = charged.get(key);
    if (previous) return reply.code(200).send(previous);
    // No await between the checks above and this registration, so no second charge can start in between.
    const attempt = charge(deps, request.body, reply);
    inFlight.set(
      key,
      attempt.catch(() => undefined),
    );
    try {
      const order = await attempt;
      if (order) remember(charged, key, order);
    } finally {
      inFlight.delete(key);
    }
    return reply;
  });
}

/** Validates, prices and charges one cart, sending the reply; resolves to the order when one was charged. */
async function charge(deps: ShopDeps, body: unknown, reply: FastifyReply): Promise<Order | undefined> {
  let cart;
  try {
    cart = parseCart(body);
  } catch (err) {
    if (!(err instanceof CartError)) throw err;
    await reply.code(400).send({ error: 'INVALID_CART', message: err.message, path: err.path });
    return undefined;
  }
  if (cart.paymentToken === 'tok_declined') {
    await reply
      .code(402)
      .send({ error: 'PAYMENT_DECLINED', message: 'the card was declined; use another token' });
    return undefined;
  }
  const degraded = await priceSourceOrFail(deps, reply);
  if (degraded === null) return undefined;
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
  await reply.code(201).send(order);
  return order;
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
