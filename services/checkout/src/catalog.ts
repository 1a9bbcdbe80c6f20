/**
 * The shop's domain: a fixed catalogue, cart validation and pricing. Pure functions, so the HTTP layer and
 * the chaos layer stay thin and the rules a cart must follow are tested without a server.
 */

export interface Product {
  readonly sku: string;
  readonly name: string;
  /** Price in cents; the "cached" price degraded mode serves when live pricing is bypassed. */
  readonly priceCents: number;
  /** SKUs shown as "customers also bought"; recommendations are skipped in degraded mode. */
  readonly related: readonly string[];
}

export const CATALOG: readonly Product[] = [
  { sku: 'MUG-001', name: 'Incident commander mug', priceCents: 1499, related: ['TEE-002', 'STK-003'] },
  {
    sku: 'TEE-002',
    name: 'I survived the outage t-shirt',
    priceCents: 2499,
    related: ['MUG-001', 'HOD-004'],
  },
  { sku: 'STK-003', name: 'Sticker pack: 5 nines', priceCents: 499, related: ['MUG-001'] },
  { sku: 'HOD-004', name: 'On-call hoodie', priceCents: 5999, related: ['TEE-002', 'BOK-005'] },
  { sku: 'BOK-005', name: 'The runbook book', priceCents: 3999, related: ['HOD-004', 'STK-003'] },
];

const BY_SKU = new Map(CATALOG.map((p) => [p.sku, p]));

export const LIMITS = { maxLines: 50, maxQuantity: 99 } as const;
/** Tax applied to the subtotal, in basis points (8.25 %). */
export const TAX_BASIS_POINTS = 825;
/** Orders at or above this subtotal ship free; below it they pay the flat fee. */
export const FREE_SHIPPING_FROM_CENTS = 5000;
export const SHIPPING_CENTS = 599;

export interface CartLine {
  readonly sku: string;
  readonly quantity: number;
}

export interface Cart {
  readonly lines: readonly CartLine[];
  readonly paymentToken: string;
}

/** A cart the shop refuses, with the JSON path of the offending field. */
export class CartError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'CartError';
  }
}

/** Validates an untrusted request body into a cart; duplicate SKUs are merged. Throws CartError. */
export function parseCart(body: unknown): Cart {
  if (!isRecord(body)) throw new CartError('$', 'the body must be a JSON object {items, payment}');
  const items = body['items'];
  if (!Array.isArray(items) || items.length === 0) {
    throw new CartError('$.items', 'items must be a non-empty array of {sku, quantity}');
  }
  if (items.length > LIMITS.maxLines) {
    throw new CartError('$.items', `a cart holds at most ${LIMITS.maxLines} lines`);
  }
  const merged = new Map<string, number>();
  items.forEach((item: unknown, i) => {
    const line = parseLine(item, `$.items[${i}]`);
    merged.set(line.sku, (merged.get(line.sku) ?? 0) + line.quantity);
  });
  for (const [sku, quantity] of merged) {
    if (quantity > LIMITS.maxQuantity) {
      throw new CartError('$.items', `at most ${LIMITS.maxQuantity} of ${sku} per order (asked ${quantity})`);
    }
  }
  const payment = body['payment'];
  const token = isRecord(payment) ? payment['token'] : undefined;
  if (typeof token !== 'string' || !/^tok_[A-Za-z0-9_]{1,64}$/.test(token)) {
    throw new CartError('$.payment.token', 'payment.token must look like tok_<letters, digits or _>');
  }
  return { lines: [...merged].map(([sku, quantity]) => ({ sku, quantity })), paymentToken: token };
}

function parseLine(item: unknown, path: string): CartLine {
  if (!isRecord(item)) throw new CartError(path, 'each item must be an object {sku, quantity}');
  const sku = item['sku'];
  const quantity = item['quantity'];
  if (typeof sku !== 'string' || !BY_SKU.has(sku)) {
    throw new CartError(
      `${path}.sku`,
      `unknown sku ${JSON.stringify(sku)}; GET /products lists the valid ones`,
    );
  }
  if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1) {
    throw new CartError(`${path}.quantity`, 'quantity must be a positive integer');
  }
  return { sku, quantity };
}

export interface PricedLine extends CartLine {
  readonly name: string;
  readonly unitPriceCents: number;
  readonly lineTotalCents: number;
}

export interface Quote {
  readonly lines: readonly PricedLine[];
  readonly subtotalCents: number;
  readonly taxCents: number;
  readonly shippingCents: number;
  readonly totalCents: number;
}

/** Prices a validated cart with the given unit prices (live or cached); integer cents, tax rounded half up. */
export function priceCart(cart: Cart, unitPrice: (sku: string) => number): Quote {
  const lines = cart.lines.map((line) => {
    const product = productBySku(line.sku);
    const unitPriceCents = unitPrice(line.sku);
    return { ...line, name: product.name, unitPriceCents, lineTotalCents: unitPriceCents * line.quantity };
  });
  const subtotalCents = lines.reduce((sum, l) => sum + l.lineTotalCents, 0);
  const taxCents = Math.round((subtotalCents * TAX_BASIS_POINTS) / 10_000);
  const shippingCents = subtotalCents >= FREE_SHIPPING_FROM_CENTS ? 0 : SHIPPING_CENTS;
  return {
    lines,
    subtotalCents,
    taxCents,
    shippingCents,
    totalCents: subtotalCents + taxCents + shippingCents,
  };
}

/** "Customers also bought": related SKUs of the cart not already in it, at most three. */
export function recommend(cart: Cart): string[] {
  const inCart = new Set(cart.lines.map((l) => l.sku));
  const out: string[] = [];
  for (const line of cart.lines) {
    for (const sku of productBySku(line.sku).related) {
      if (!inCart.has(sku) && !out.includes(sku)) out.push(sku);
    }
  }
  return out.slice(0, 3);
}

export function productBySku(sku: string): Product {
  const product = BY_SKU.get(sku);
  if (!product) throw new CartError('$.sku', `unknown sku ${sku}`);
  return product;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
