import type { LeafTest, ObjectNode, Scalar } from './types.ts';

/** Tests one object level of an event. */
export type ObjectPredicate = (obj: Readonly<Record<string, unknown>>) => boolean;
type ValuePredicate = (value: unknown) => boolean;

const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * Turns a validated pattern tree into nested closures specialised for what each leaf holds (one exact value,
 * a set of exact values, operators), so matching does no interpretation work per event. Semantics:
 * - a nested pattern object is matched against each object the event holds there, one element at a time,
 *   so fields from different array elements are never combined (event-ruler's array consistency); where the
 *   event holds no object it is matched against an empty object, where only `exists: false` leaves pass;
 * - a leaf sees the scalars of the field: the value itself or every scalar inside an array (nested arrays
 *   flattened); an object is not a leaf value, so a field holding only an object counts as absent.
 */
export function objectPredicate(node: ObjectNode): ObjectPredicate {
  const fields = node.fields.map((field) => ({
    key: field.key,
    // Only keys Object.prototype also has need the slower own-property check.
    inherited: field.key in Object.prototype,
    test: field.kind === 'leaf' ? leafPredicate(field.test) : nestedPredicate(field.node),
  }));
  const ors = node.ors.map((group) => group.map(objectPredicate));
  return (obj) => {
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i]!;
      const value = field.inherited && !Object.hasOwn(obj, field.key) ? undefined : obj[field.key];
      if (!field.test(value)) return false;
    }
    for (let g = 0; g < ors.length; g++) {
      const group = ors[g]!;
      let any = false;
      for (let a = 0; a < group.length && !any; a++) any = group[a]!(obj);
      if (!any) return false;
    }
    return true;
  };
}

function nestedPredicate(node: ObjectNode): ValuePredicate {
  const test = objectPredicate(node);
  const matchesEmpty = test(EMPTY);
  return (value) => {
    if (typeof value !== 'object' || value === null) return matchesEmpty;
    if (!Array.isArray(value)) return test(value as Readonly<Record<string, unknown>>);
    const state = { seen: false };
    if (someObject(value, test, state)) return true;
    return state.seen ? false : matchesEmpty;
  };
}

function leafPredicate(leaf: LeafTest): ValuePredicate {
  const scalar = scalarPredicate(leaf);
  const { existsTrue, existsFalse } = leaf;
  return (value) => {
    if (value === undefined) return existsFalse;
    if (typeof value !== 'object' || value === null) return scalar(value as Scalar);
    if (!Array.isArray(value)) return existsFalse;
    const state = { seen: false };
    if (someScalar(value, scalar, state)) return true;
    return state.seen ? existsTrue : existsFalse;
  };
}

// Module-level walkers (not per-rule closures) keep each compiled rule small: rule sets can be large.
function someObject(array: readonly unknown[], test: ObjectPredicate, state: { seen: boolean }): boolean {
  for (const element of array) {
    if (Array.isArray(element)) {
      if (someObject(element, test, state)) return true;
    } else if (typeof element === 'object' && element !== null) {
      state.seen = true;
      if (test(element as Readonly<Record<string, unknown>>)) return true;
    }
  }
  return false;
}

function someScalar(
  array: readonly unknown[],
  test: (v: Scalar) => boolean,
  state: { seen: boolean },
): boolean {
  for (const element of array) {
    if (Array.isArray(element)) {
      if (someScalar(element, test, state)) return true;
    } else if (element !== undefined && (typeof element !== 'object' || element === null)) {
      state.seen = true;
      if (test(element as Scalar)) return true;
    }
  }
  return false;
}

/** The test for one present scalar value, specialised for the common shapes of a leaf. */
function scalarPredicate(leaf: LeafTest): (value: Scalar) => boolean {
  if (leaf.existsTrue) return () => true;
  const exact = leaf.exactValues;
  if (exact !== undefined && exact.length === 1) {
    const only = exact[0];
    return (v) => v === only;
  }
  if (exact !== undefined) {
    // Set lookups compare like ===, except that they also treat -0 as 0, which === does as well.
    const set = new Set<Scalar>(exact);
    return (v) => set.has(v);
  }
  const matchers = leaf.matchers;
  if (matchers.length === 1) return matchers[0]!;
  return (v) => {
    for (let i = 0; i < matchers.length; i++) if (matchers[i]!(v)) return true;
    return false;
  };
}
