import type { Delivery } from './port.ts';

/** A delivery the worker holds, and whether a lane is delivering it now. */
interface Slot {
  delivery: Delivery;
  busy: boolean;
  removed: boolean;
}

/** Removed slots tolerated before the array is compacted (also never more than the slots still held). */
const COMPACT_AFTER = 64;

/**
 * The head of one target's delivery queue as the worker has read it: deliveries in id (arrival) order, each
 * marked while a lane delivers it.
 *
 * An array of slots rather than a `Map` and a `Set`, on purpose: deliveries come and go thousands of times a
 * second, and V8 keeps what a churning, long-lived hash-table collection once held alive through the young
 * generation (see Dictionary). Ids grow, so lookups are binary searches.
 */
export class DeliveryWindow {
  private slots: Slot[] = [];
  /** Slots before it are all removed. */
  private head = 0;
  private removedCount = 0;
  private busyCount = 0;

  /** Deliveries held (busy or not). */
  get size(): number {
    return this.slots.length - this.head - this.removedCount;
  }

  /** Deliveries a lane is delivering. */
  get busy(): number {
    return this.busyCount;
  }

  /**
   * Adds deliveries read from the store, in ascending id order. Ids already held are skipped: after the
   * store failed, the queue is read afresh while some of it is still being delivered.
   */
  add(fresh: readonly Delivery[]): void {
    if (fresh.length === 0) return;
    const last = this.slots[this.slots.length - 1];
    if (!last || last.delivery.id < fresh[0]!.id) {
      for (const delivery of fresh) this.slots.push({ delivery, busy: false, removed: false });
      return;
    }
    // A re-read overlapping what is held: merge the two ordered lists.
    const held = this.live();
    const merged: Slot[] = [];
    let i = 0;
    for (const delivery of fresh) {
      while (i < held.length && held[i]!.delivery.id < delivery.id) merged.push(held[i++]!);
      if (i < held.length && held[i]!.delivery.id === delivery.id) continue;
      merged.push({ delivery, busy: false, removed: false });
    }
    while (i < held.length) merged.push(held[i++]!);
    this.reset(merged);
  }

  has(id: number): boolean {
    return this.find(id) !== undefined;
  }

  /** Deliveries no lane is delivering, in id order. */
  waiting(): Delivery[] {
    const out: Delivery[] = [];
    for (let i = this.head; i < this.slots.length; i++) {
      const slot = this.slots[i]!;
      if (!slot.removed && !slot.busy) out.push(slot.delivery);
    }
    return out;
  }

  /** Marks a delivery as being delivered, or no longer (a delivery not held is ignored). */
  setBusy(id: number, busy: boolean): void {
    const slot = this.find(id);
    if (!slot || slot.busy === busy) return;
    slot.busy = busy;
    this.busyCount += busy ? 1 : -1;
  }

  /** Swaps a held delivery for a newer copy of it (same id: its place in the order is kept). */
  replace(delivery: Delivery): void {
    const slot = this.find(delivery.id);
    if (slot) slot.delivery = delivery;
  }

  remove(id: number): void {
    const slot = this.find(id);
    if (!slot) return;
    if (slot.busy) this.busyCount -= 1;
    slot.removed = true;
    slot.busy = false;
    this.removedCount += 1;
    while (this.head < this.slots.length && this.slots[this.head]!.removed) {
      this.head += 1;
      this.removedCount -= 1;
    }
    if (this.head === this.slots.length) this.reset([]);
    else if (this.head + this.removedCount > Math.max(COMPACT_AFTER, this.size)) this.reset(this.live());
  }

  /** Forgets every delivery no lane is delivering (the store failed: its truth is read again). */
  forgetWaiting(): void {
    this.reset(this.live().filter((s) => s.busy));
  }

  private live(): Slot[] {
    const out: Slot[] = [];
    for (let i = this.head; i < this.slots.length; i++) if (!this.slots[i]!.removed) out.push(this.slots[i]!);
    return out;
  }

  private reset(slots: Slot[]): void {
    this.slots = slots;
    this.head = 0;
    this.removedCount = 0;
    this.busyCount = 0;
    for (const s of slots) if (s.busy) this.busyCount += 1;
  }

  /** The held slot with this id: a binary search, ids being in ascending order (removed slots included). */
  private find(id: number): Slot | undefined {
    let lo = this.head;
    let hi = this.slots.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const slot = this.slots[mid]!;
      if (slot.delivery.id === id) return slot.removed ? undefined : slot;
      if (slot.delivery.id < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }
}
