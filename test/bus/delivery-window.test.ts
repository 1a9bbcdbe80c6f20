import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DeliveryWindow } from '../../src/bus/delivery-window.ts';
import type { Delivery } from '../../src/bus/port.ts';

const d = (id: number, attempts = 0): Delivery => ({
  id,
  target: 'r/t',
  rule: 'r',
  eventId: `e${id}`,
  correlationId: `c${id}`,
  orderingKey: `k${id}`,
  attempts,
  notBefore: 0,
  createdAt: 0,
  lastError: null,
  replay: null,
});

const ids = (w: DeliveryWindow) => w.waiting().map((x) => x.id);

describe('DeliveryWindow', () => {
  it('keeps deliveries in id order and hands out those no lane is delivering', () => {
    const w = new DeliveryWindow();
    w.add([d(1), d(2), d(3)]);
    w.add([d(5)]);
    w.setBusy(2, true);
    expect(ids(w)).toEqual([1, 3, 5]);
    expect(w.size).toBe(4);
    expect(w.busy).toBe(1);
    w.setBusy(2, true); // twice: counted once
    expect(w.busy).toBe(1);
    w.setBusy(2, false);
    expect(ids(w)).toEqual([1, 2, 3, 5]);
    expect(w.busy).toBe(0);
  });

  it('forgets removed deliveries, busy or not, and ignores ids it does not hold', () => {
    const w = new DeliveryWindow();
    w.add([d(1), d(2), d(3)]);
    w.setBusy(2, true);
    w.remove(2);
    w.remove(2);
    w.remove(9);
    w.setBusy(9, true);
    expect(ids(w)).toEqual([1, 3]);
    expect(w.has(2)).toBe(false);
    expect(w.busy).toBe(0);
    w.remove(1);
    w.remove(3);
    expect(w.size).toBe(0);
    w.add([d(4)]);
    expect(ids(w)).toEqual([4]);
  });

  it('replaces a held delivery in place and leaves the rest alone', () => {
    const w = new DeliveryWindow();
    w.add([d(1), d(2), d(3)]);
    w.setBusy(2, true);
    w.replace(d(2, 4));
    w.replace(d(7, 1)); // not held: nothing to replace
    w.setBusy(2, false);
    expect(w.waiting().map((x) => [x.id, x.attempts])).toEqual([
      [1, 0],
      [2, 4],
      [3, 0],
    ]);
  });

  it('after the store failed, keeps what is in flight and skips it in the queue read afresh', () => {
    const w = new DeliveryWindow();
    w.add([d(1), d(2), d(3), d(4)]);
    w.setBusy(2, true);
    w.setBusy(4, true);
    w.forgetWaiting();
    expect(ids(w)).toEqual([]);
    expect(w.size).toBe(2);
    // The re-read starts from the beginning of the queue: 2 and 4 come back, as stored copies.
    w.add([d(1), d(2, 9), d(3), d(4, 9), d(6)]);
    expect(w.size).toBe(5);
    expect(w.busy).toBe(2);
    expect(ids(w)).toEqual([1, 3, 6]);
    w.setBusy(2, false);
    // The copy in flight was kept, not the re-read one.
    expect(w.waiting().find((x) => x.id === 2)?.attempts).toBe(0);
  });

  it('agrees with a plain model under any sequence of operations', () => {
    type Op =
      | { op: 'add'; n: number }
      | { op: 'reread'; keep: boolean[]; n: number }
      | { op: 'remove' | 'busy' | 'idle' | 'replace'; pick: number }
      | { op: 'forget' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ op: fc.constant('add' as const), n: fc.integer({ min: 1, max: 80 }) }),
      // The store failed: the queue is read again from the start, held deliveries and new ones together.
      fc.record({
        op: fc.constant('reread' as const),
        keep: fc.array(fc.boolean(), { maxLength: 100 }),
        n: fc.integer({ min: 0, max: 20 }),
      }),
      fc.record({
        op: fc.constantFrom('remove' as const, 'busy' as const, 'idle' as const, 'replace' as const),
        pick: fc.nat(),
      }),
      fc.record({ op: fc.constant('forget' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const w = new DeliveryWindow();
        const model = new Map<number, { busy: boolean; attempts: number }>();
        let next = 1;
        for (const o of ops) {
          const held = [...model.keys()].sort((a, b) => a - b);
          if (o.op === 'add') {
            const fresh = Array.from({ length: o.n }, () => d(next++));
            w.add(fresh);
            for (const x of fresh) model.set(x.id, { busy: false, attempts: 0 });
          } else if (o.op === 'reread') {
            // Stored copies (attempts 7) of some held deliveries, interleaved in id order with new ones.
            const again = held.filter((_, k) => o.keep[k % Math.max(1, o.keep.length)] ?? true);
            const fresh = Array.from({ length: o.n }, () => next++);
            const ids = [...again, ...fresh].sort((a, b) => a - b);
            w.add(ids.map((id) => d(id, 7)));
            for (const id of fresh) model.set(id, { busy: false, attempts: 7 });
          } else if (o.op === 'forget') {
            w.forgetWaiting();
            for (const [id, m] of [...model]) if (!m.busy) model.delete(id);
          } else if (held.length > 0) {
            const id = held[o.pick % held.length]!;
            const m = model.get(id)!;
            if (o.op === 'remove') {
              w.remove(id);
              model.delete(id);
            } else if (o.op === 'replace') {
              w.replace(d(id, m.attempts + 1));
              m.attempts += 1;
            } else {
              w.setBusy(id, o.op === 'busy');
              m.busy = o.op === 'busy';
            }
          }
          const ordered = [...model].sort((a, b) => a[0] - b[0]);
          expect(w.waiting().map((x) => [x.id, x.attempts])).toEqual(
            ordered.filter(([, m]) => !m.busy).map(([id, m]) => [id, m.attempts]),
          );
          expect(w.size).toBe(model.size);
          expect(w.busy).toBe(ordered.filter(([, m]) => m.busy).length);
          for (const id of held) expect(w.has(id)).toBe(model.has(id));
        }
      }),
    );
  });
});
