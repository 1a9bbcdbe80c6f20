import type { CompiledPattern, LeafTest, ObjectNode, Scalar } from './types.ts';

const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({});

/** True when the event (a parsed JSON object) matches the compiled pattern. */
export function matches(compiled: CompiledPattern, event: unknown): boolean {
  return isPlainObject(event) && matchNode(compiled.root, event);
}

function matchNode(node: ObjectNode, obj: Readonly<Record<string, unknown>>): boolean {
  for (const field of node.fields) {
    const value = Object.hasOwn(obj, field.key) ? obj[field.key] : undefined;
    const ok = field.kind === 'leaf' ? matchLeaf(field.test, value) : matchObjectField(field.node, value);
    if (!ok) return false;
  }
  for (const group of node.ors) {
    let any = false;
    for (const alternative of group) {
      if (matchNode(alternative, obj)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  return true;
}

/**
 * A nested pattern object is matched against each object the event holds there, one element at a time, so
 * fields taken from different elements of an array are never combined (event-ruler's array consistency).
 * Where the event holds no object, it is matched against an empty object: only `exists: false` leaves pass.
 */
function matchObjectField(node: ObjectNode, value: unknown): boolean {
  if (isPlainObject(value)) return matchNode(node, value);
  if (Array.isArray(value)) {
    const state = { sawObject: false };
    if (someObject(value, state, (obj) => matchNode(node, obj))) return true;
    if (state.sawObject) return false;
  }
  return matchNode(node, EMPTY);
}

function someObject(
  array: readonly unknown[],
  state: { sawObject: boolean },
  test: (obj: Readonly<Record<string, unknown>>) => boolean,
): boolean {
  for (const element of array) {
    if (isPlainObject(element)) {
      state.sawObject = true;
      if (test(element)) return true;
    } else if (Array.isArray(element) && someObject(element, state, test)) {
      return true;
    }
  }
  return false;
}

/**
 * A leaf sees the scalars of the field: the value itself, or every scalar inside an array (nested arrays
 * flattened). Objects are not leaf values, so a field holding only an object counts as absent.
 */
function matchLeaf(test: LeafTest, value: unknown): boolean {
  if (value === undefined || isPlainObject(value)) return test.existsFalse;
  if (!Array.isArray(value)) return test.existsTrue || anyMatcher(test, value as Scalar);
  const state = { sawScalar: false };
  if (someScalar(value, state, test)) return true;
  return state.sawScalar ? test.existsTrue : test.existsFalse;
}

function someScalar(array: readonly unknown[], state: { sawScalar: boolean }, test: LeafTest): boolean {
  for (const element of array) {
    if (Array.isArray(element)) {
      if (someScalar(element, state, test)) return true;
    } else if (!isPlainObject(element) && element !== undefined) {
      state.sawScalar = true;
      if (anyMatcher(test, element as Scalar)) return true;
    }
  }
  return false;
}

function anyMatcher(test: LeafTest, value: Scalar): boolean {
  const matchers = test.matchers;
  for (let i = 0; i < matchers.length; i++) {
    if (matchers[i]!(value)) return true;
  }
  return false;
}

export function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
