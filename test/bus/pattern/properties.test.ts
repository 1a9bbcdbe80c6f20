import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePattern, matches } from '../../../src/bus/pattern/index.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Gen = fc.GeneratorValue;

const key = fc.string({ minLength: 1, maxLength: 6 }).filter((k) => k !== '$or');
// Round-tripped through JSON text so -0 and other non-JSON values never reach the matcher.
const jsonValue = fc
  .oneof(fc.jsonValue({ maxDepth: 3 }), fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }))
  .map((v) => JSON.parse(JSON.stringify(v)) as Json);
const event = fc.dictionary(key, jsonValue, { minKeys: 1, maxKeys: 6 });

function isObject(v: unknown): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function flatten(values: readonly Json[]): Json[] {
  return values.flatMap((v) => (Array.isArray(v) ? flatten(v) : [v]));
}

/** A pattern for the object made only of facts the object itself holds, so it must match. */
function patternFor(g: Gen, obj: { [key: string]: Json }): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(obj)) {
    if (g(fc.boolean)) continue;
    const field = fieldPattern(g, obj[k]!);
    if (field !== undefined) out[k] = field;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

function fieldPattern(g: Gen, value: Json): unknown {
  if (isObject(value)) return patternFor(g, value);
  if (!Array.isArray(value)) return leafFor(g, value);
  const all = flatten(value);
  const objects = all.filter(isObject);
  const scalars = all.filter((v) => !isObject(v));
  if (objects.length > 0 && (scalars.length === 0 || g(fc.boolean))) {
    return patternFor(g, objects[g(fc.nat, { max: objects.length - 1 })]!);
  }
  if (scalars.length === 0) return undefined;
  return leafFor(g, scalars[g(fc.nat, { max: scalars.length - 1 })]!);
}

function leafFor(g: Gen, v: Json): unknown[] {
  const options: (() => unknown[])[] = [
    () => [v],
    () => [{ exists: true }],
    () => ['some other value', v],
    () => [{ 'anything-but': typeof v === 'string' ? v + '\u0001' : 'never-this-string' }],
  ];
  if (typeof v === 'string') {
    // Cut between code points, never inside a surrogate pair: a pattern holding half of a
    // character is not valid Unicode text (nor valid UTF-8 JSON, which is what EventBridge
    // reads), and folding case over half a character cannot agree with folding the whole one.
    const cut = codePointOffset(v, g(fc.nat, { max: [...v].length }));
    options.push(
      () => [{ prefix: v.slice(0, cut) }],
      () => [{ suffix: v.slice(cut) }],
      () => [{ 'equals-ignore-case': swapAsciiCase(v) }],
      () => [{ prefix: { 'equals-ignore-case': swapAsciiCase(v.slice(0, cut)) } }],
      () => [{ suffix: { 'equals-ignore-case': swapAsciiCase(v.slice(cut)) } }],
      () => [{ wildcard: wildcardFor(v, cut, g(fc.nat, { max: [...v.slice(cut)].length })) }],
      () => [{ 'anything-but': { prefix: v.slice(0, cut) + '\u0001' } }],
    );
  }
  // Numeric matching covers EventBridge's range only: outside it a number matches no numeric comparison.
  if (typeof v === 'number' && Math.abs(v) <= 4e9) {
    options.push(
      () => [{ numeric: ['=', v] }],
      () => [{ numeric: ['>=', v] }],
      () => [{ numeric: ['<=', v] }],
      () => [{ 'anything-but': [v + 1] }],
    );
  }
  return options[g(fc.nat, { max: options.length - 1 })]!();
}

function swapAsciiCase(text: string): string {
  return text.replace(/[a-zA-Z]/g, (c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()));
}

/** The UTF-16 offset of the code point at `index`. */
function codePointOffset(text: string, index: number): number {
  return [...text].slice(0, index).join('').length;
}

/** The string with `len` code points from `cut` replaced by a star and everything else escaped. */
function wildcardFor(text: string, cut: number, len: number): string {
  const escape = (s: string) => s.replace(/[\\*]/g, '\\$&');
  const rest = text.slice(cut);
  return escape(text.slice(0, cut)) + '*' + escape(rest.slice(codePointOffset(rest, len)));
}

describe('properties', () => {
  it('a pattern built from an event’s own values always matches it', () => {
    fc.assert(
      fc.property(event, fc.gen(), (ev, g) => {
        const pattern = patternFor(g, ev);
        fc.pre(pattern !== undefined);
        expect(matches(compilePattern(pattern), ev)).toBe(true);
        // Round-tripped as JSON text, as the CLI and the API receive it, the answer is the same.
        expect(matches(compilePattern(JSON.stringify(pattern)), ev)).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });

  it('an $or with one alternative built from the event matches it', () => {
    fc.assert(
      fc.property(event, fc.gen(), (ev, g) => {
        const own = patternFor(g, ev);
        fc.pre(own !== undefined);
        const other = { 'no-such-field-in-any-event': ['x'] };
        const alternatives = g(fc.boolean) ? [own, other] : [other, own];
        expect(matches(compilePattern({ $or: alternatives }), ev)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('a cidr built from an address and any prefix length contains the address', () => {
    const v4 = fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 31 }));
    const v6 = fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 127 }));
    fc.assert(
      fc.property(fc.oneof(v4, v6), ([ip, bits]) => {
        expect(matches(compilePattern({ ip: [{ cidr: `${ip}/${bits}` }] }), { ip })).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('anything-but X and exact X never both match the same scalar', () => {
    const scalar = fc.oneof(fc.string({ maxLength: 4 }), fc.integer({ min: -3, max: 3 }));
    fc.assert(
      fc.property(scalar, fc.oneof(scalar, fc.constant(null)), (x, v) => {
        const exact = matches(compilePattern({ f: [x] }), { f: v });
        const not = matches(compilePattern({ f: [{ 'anything-but': x }] }), { f: v });
        expect(exact && not).toBe(false);
        expect(exact || not).toBe(true);
      }),
    );
  });
});
