import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePattern, matches, RuleIndex, type CompiledPattern } from '../../../src/bus/pattern/index.ts';

function naive(rules: ReadonlyMap<string, CompiledPattern>, event: unknown): string[] {
  return [...rules].filter(([, compiled]) => matches(compiled, event)).map(([name]) => name);
}

// A small vocabulary so random rules and random events collide often enough to exercise every branch.
const scalar = fc.constantFrom<string | number | boolean | null>(
  'x',
  'y',
  'z',
  'xy',
  1,
  2,
  3.5,
  true,
  null,
  '',
);
const fieldName = fc.constantFrom('a', 'b', 'c');

const member = fc.oneof(
  { weight: 6, arbitrary: scalar },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      { prefix: 'x' },
      { prefix: 'xy' },
      { prefix: '' },
      { suffix: 'y' },
      { 'equals-ignore-case': 'X' },
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom({ 'anything-but': 'x' }, { 'anything-but': [1, 2] }) },
  { weight: 1, arbitrary: fc.constantFrom({ numeric: ['>', 1, '<=', 3] }, { numeric: ['=', 2] }) },
  { weight: 1, arbitrary: fc.constantFrom({ exists: true }, { exists: false }) },
);
const leaf = fc.array(member, { minLength: 1, maxLength: 3 });

const patternArb: fc.Arbitrary<Record<string, unknown>> = fc.letrec((tie) => ({
  object: fc
    .tuple(
      fc.dictionary(
        fieldName,
        fc.oneof({ weight: 4, arbitrary: leaf }, { weight: 1, arbitrary: tie('nested') }),
        {
          minKeys: 1,
          maxKeys: 3,
        },
      ),
      fc.option(fc.array(tie('nested'), { minLength: 2, maxLength: 3 }), { nil: undefined }),
    )
    .map(([fields, or]) => (or === undefined ? fields : { ...fields, $or: or })),
  nested: fc.dictionary(fieldName, leaf, { minKeys: 1, maxKeys: 2 }),
})).object as fc.Arbitrary<Record<string, unknown>>;

const eventArb: fc.Arbitrary<Record<string, unknown>> = fc.letrec((tie) => ({
  value: fc.oneof(
    { weight: 5, arbitrary: scalar },
    { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }) },
    { weight: 1, arbitrary: tie('object') },
    { weight: 1, arbitrary: fc.array(tie('object'), { maxLength: 2 }) },
  ),
  object: fc.dictionary(fieldName, tie('value'), { maxKeys: 3, depthIdentifier: 'event' }),
})).object as fc.Arbitrary<Record<string, unknown>>;

describe('RuleIndex', () => {
  it('returns exactly what a scan of every rule returns, in insertion order', () => {
    let checks = 0;
    let nonEmpty = 0;
    fc.assert(
      fc.property(
        fc.array(patternArb, { minLength: 1, maxLength: 25 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.array(eventArb, { minLength: 1, maxLength: 10 }),
        (patterns, removals, events) => {
          const index = new RuleIndex();
          const rules = new Map<string, CompiledPattern>();
          patterns.forEach((pattern, i) => {
            const compiled = compilePattern(pattern);
            index.add(`r${i}`, compiled);
            rules.set(`r${i}`, compiled);
          });
          for (const r of removals) {
            const name = `r${r % patterns.length}`;
            expect(index.remove(name)).toBe(rules.delete(name));
          }
          for (const event of events) {
            const expected = naive(rules, event);
            expect(index.match(event)).toEqual(expected);
            checks++;
            if (expected.length > 0) nonEmpty++;
          }
        },
      ),
      { numRuns: 400 },
    );
    // Guards the generators: the comparison means little if events almost never match any rule.
    expect(nonEmpty / checks).toBeGreaterThan(0.08);
  });

  it('tests only the rules filed under the values the event holds', () => {
    const index = new RuleIndex();
    for (let i = 0; i < 1000; i++) {
      index.add(
        `rule-${i}`,
        compilePattern({
          source: ['rebound.alertmanager'],
          detail: { labels: { alertname: [`Alert${i}`] } },
        }),
      );
    }
    index.add(
      'catch-all-critical',
      compilePattern({ detail: { labels: { severity: [{ prefix: 'crit' }] } } }),
    );
    const event = {
      source: 'rebound.alertmanager',
      detail: { labels: { alertname: 'Alert7', severity: 'critical' } },
    };
    expect(index.match(event)).toEqual(['rule-7', 'catch-all-critical']);
    // The shared "source" value would select all 1000 rules; alertname is chosen because it is more selective.
    expect(index.candidateCount(event)).toBe(2);
  });

  it('files rules under prefixes when they have no exact field', () => {
    const index = new RuleIndex();
    for (let i = 0; i < 500; i++) {
      index.add(`family-${i}`, compilePattern({ detail: { alertname: [{ prefix: `Family${i}-` }] } }));
    }
    index.add('exact', compilePattern({ detail: { alertname: ['Family7-Disk'] } }));
    const event = { detail: { alertname: 'Family7-Disk' } };
    expect(index.match(event)).toEqual(['family-7', 'exact']);
    expect(index.candidateCount(event)).toBe(2);
    expect(index.match({ detail: { alertname: 'Family7' } })).toEqual([]);
  });

  it('replaces a rule added again under the same name and forgets removed rules', () => {
    const index = new RuleIndex();
    index.add('r', compilePattern({ a: ['x'] }));
    index.add('r', compilePattern({ a: ['y'] }));
    expect(index.size).toBe(1);
    expect(index.match({ a: 'x' })).toEqual([]);
    expect(index.match({ a: 'y' })).toEqual(['r']);
    expect(index.remove('r')).toBe(true);
    expect(index.remove('r')).toBe(false);
    expect(index.match({ a: 'y' })).toEqual([]);
  });

  it('finds values inside arrays of objects, as matching does', () => {
    const index = new RuleIndex();
    index.add('anna', compilePattern({ employees: { firstName: ['Anna'] } }));
    expect(index.match({ employees: [[{ firstName: 'John' }], [{ firstName: 'Anna' }]] })).toEqual(['anna']);
    expect(index.match('not an object')).toEqual([]);
  });
});
