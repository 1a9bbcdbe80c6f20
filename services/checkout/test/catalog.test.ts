import { describe, expect, it } from 'vitest';
import {
  CATALOG,
  CartError,
  FREE_SHIPPING_FROM_CENTS,
  SHIPPING_CENTS,
  parseCart,
  priceCart,
  productBySku,
  recommend,
} from '../src/catalog.ts';

const token = { token: 'tok_visa' };
const catalogPrice = (sku: string) => productBySku(sku).priceCents;

function cartError(body: unknown): CartError {
  try {
    parseCart(body);
  } catch (err) {
    if (err instanceof CartError) return err;
    throw err;
  }
  throw new Error('expected a CartError');
}

describe('parseCart', () => {
  it('accepts a valid cart and merges duplicate SKUs', () => {
    const cart = parseCart({
      items: [
        { sku: 'MUG-001', quantity: 2 },
        { sku: 'STK-003', quantity: 1 },
        { sku: 'MUG-001', quantity: 3 },
      ],
      payment: token,
    });
    expect(cart).toEqual({
      lines: [
        { sku: 'MUG-001', quantity: 5 },
        { sku: 'STK-003', quantity: 1 },
      ],
      paymentToken: 'tok_visa',
    });
  });

  it.each([
    [null, '$'],
    [[], '$'],
    [{ payment: token }, '$.items'],
    [{ items: [], payment: token }, '$.items'],
    [{ items: [42], payment: token }, '$.items[0]'],
    [{ items: [{ sku: 'NOPE', quantity: 1 }], payment: token }, '$.items[0].sku'],
    [{ items: [{ sku: 'MUG-001', quantity: 0 }], payment: token }, '$.items[0].quantity'],
    [{ items: [{ sku: 'MUG-001', quantity: 1.5 }], payment: token }, '$.items[0].quantity'],
    [{ items: [{ sku: 'MUG-001', quantity: '1' }], payment: token }, '$.items[0].quantity'],
    [
      {
        items: [
          { sku: 'MUG-001', quantity: 60 },
          { sku: 'MUG-001', quantity: 40 },
        ],
        payment: token,
      },
      '$.items',
    ],
    [{ items: [{ sku: 'MUG-001', quantity: 1 }] }, '$.payment.token'],
    [{ items: [{ sku: 'MUG-001', quantity: 1 }], payment: { token: 'card 4242' } }, '$.payment.token'],
  ])('rejects %j at %s', (body, path) => {
    expect(cartError(body).path).toBe(path);
  });

  it('rejects more lines than the limit', () => {
    const items = Array.from({ length: 51 }, () => ({ sku: 'MUG-001', quantity: 1 }));
    expect(cartError({ items, payment: token }).message).toMatch(/at most 50 lines/);
  });

  it('names the listing endpoint when a SKU is unknown', () => {
    expect(cartError({ items: [{ sku: 'X', quantity: 1 }], payment: token }).message).toMatch(
      /GET \/products/,
    );
  });
});

describe('priceCart', () => {
  it('prices lines in integer cents with tax and shipping below the free-shipping threshold', () => {
    const quote = priceCart(
      parseCart({ items: [{ sku: 'MUG-001', quantity: 2 }], payment: token }),
      catalogPrice,
    );
    expect(quote.subtotalCents).toBe(2998);
    expect(quote.taxCents).toBe(247); // 2998 * 8.25 % = 247.335
    expect(quote.shippingCents).toBe(SHIPPING_CENTS);
    expect(quote.totalCents).toBe(2998 + 247 + SHIPPING_CENTS);
    expect(quote.lines[0]).toMatchObject({
      name: 'Incident commander mug',
      unitPriceCents: 1499,
      lineTotalCents: 2998,
    });
  });

  it('ships free from the threshold and uses the unit prices it is given', () => {
    const cart = parseCart({ items: [{ sku: 'HOD-004', quantity: 1 }], payment: token });
    expect(priceCart(cart, catalogPrice).shippingCents).toBe(0);
    const cheap = priceCart(cart, () => FREE_SHIPPING_FROM_CENTS - 1);
    expect(cheap.subtotalCents).toBe(FREE_SHIPPING_FROM_CENTS - 1);
    expect(cheap.shippingCents).toBe(SHIPPING_CENTS);
  });
});

describe('recommend', () => {
  it('suggests related products not in the cart, at most three, without repeats', () => {
    const cart = parseCart({
      items: [
        { sku: 'MUG-001', quantity: 1 },
        { sku: 'HOD-004', quantity: 1 },
      ],
      payment: token,
    });
    const recs = recommend(cart);
    expect(recs).toEqual(['TEE-002', 'STK-003', 'BOK-005']);
    expect(recs).not.toContain('MUG-001');
  });

  it('every related SKU exists in the catalogue', () => {
    for (const product of CATALOG)
      for (const sku of product.related) expect(() => productBySku(sku)).not.toThrow();
    expect(() => productBySku('NOPE')).toThrow(CartError);
  });
});
