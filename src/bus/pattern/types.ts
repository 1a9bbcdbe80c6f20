/** The compiled form of an EventBridge event pattern: validated once, matched many times. */

/** A JSON scalar as it can appear as one value of an event field. */
export type Scalar = string | number | boolean | null;

/** Tests one scalar value of an event field. */
export type ValueMatcher = (value: Scalar) => boolean;

/** The test a pattern leaf (an array of match values) applies to one event field. */
export interface LeafTest {
  /**
   * Value matchers OR-ed together; any of them matching any value of the field is a match. Exact members
   * appear here as one set lookup only when operators share the leaf; an exact-only leaf uses exactValues.
   */
  readonly matchers: readonly ValueMatcher[];
  /** `{"exists": true}` appears in the leaf: any value at all matches. */
  readonly existsTrue: boolean;
  /** `{"exists": false}` appears in the leaf: an absent field matches. */
  readonly existsFalse: boolean;
  /** Exact scalar values of the leaf when every member is an exact value (the rule index keys on these). */
  readonly exactValues: readonly Scalar[] | undefined;
  /** Prefixes of the leaf when every member is a case-sensitive, non-empty `prefix` (indexed too). */
  readonly prefixValues: readonly string[] | undefined;
}

export type FieldNode =
  | { readonly kind: 'leaf'; readonly key: string; readonly test: LeafTest }
  | { readonly kind: 'object'; readonly key: string; readonly node: ObjectNode };

/** An object level of a pattern: every field and every `$or` group must match. */
export interface ObjectNode {
  readonly fields: readonly FieldNode[];
  /** Each group is an `$or`: at least one of its alternatives must match the same object. */
  readonly ors: readonly (readonly ObjectNode[])[];
}

export interface CompiledPattern {
  readonly root: ObjectNode;
  /** The root compiled to closures; call through `matches()`, which checks the event is an object. */
  readonly test: (event: Readonly<Record<string, unknown>>) => boolean;
  /** The pattern as given, kept for display and for re-serialising rules. */
  readonly source: unknown;
  /** How many plain AND-patterns the `$or`s expand to (EventBridge caps this at 1000). */
  readonly combinations: number;
}
