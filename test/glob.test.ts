import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { globMatcher } from '../src/glob.ts';
import { globMatch } from '../src/guard/target.ts';
import { match } from './bus/pattern/helpers.ts';
import { run } from './workflows/support.ts';

const glob = (pattern: string, value: string) => globMatcher(pattern.split('*'))(value);

/** What `*` means, spelled as a RegExp: fine for the short strings of a property test. */
const reference = (pattern: string, value: string) =>
  new RegExp(`^${pattern.split('*').map(escape).join('[\\s\\S]*')}$`).test(value);
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Long enough that a backtracking RegExp would take hours; the test's timeout stands in for "hangs". */
const HOSTILE = { pattern: '*a*a*a*a*a*a*b', value: 'a'.repeat(20_000) };

describe('globMatcher', () => {
  it('pins the first and last pieces to the ends and finds the others in order', () => {
    expect(glob('abc', 'abc')).toBe(true);
    expect(glob('abc', 'abcd')).toBe(false);
    expect(glob('*', '')).toBe(true);
    expect(glob('a*', 'a')).toBe(true);
    expect(glob('*c', 'abc')).toBe(true);
    expect(glob('a*a', 'a')).toBe(false); // the two ends may not share a character
    expect(glob('a*a', 'aa')).toBe(true);
    expect(glob('a*b*c', 'axxbyyc')).toBe(true);
    expect(glob('a*b*c', 'axxcyyb')).toBe(false);
    expect(glob('*ab*ab*', 'xaby')).toBe(false);
    expect(glob('*ab*ab*', 'ababab')).toBe(true);
    expect(glob('a**b', 'ab')).toBe(true);
    expect(glob('*bc*c', 'abcc')).toBe(true); // the middle piece must end before the last one starts
    expect(glob('*bc*c', 'abc')).toBe(false);
  });

  it('agrees with the RegExp spelling of the same glob on every short string', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 8 });
    const pattern = fc.string({ unit: fc.constantFrom('a', 'b', '*'), maxLength: 6 });
    fc.assert(
      fc.property(pattern, text, (p, v) => {
        expect(glob(p, v)).toBe(reference(p, v));
      }),
      { numRuns: 5000 },
    );
  });

  it('answers at once where a RegExp backtracks for hours: event patterns, StringMatches, allowlists', async () => {
    expect(glob(HOSTILE.pattern, HOSTILE.value)).toBe(false);
    expect(match({ detail: { x: [{ wildcard: HOSTILE.pattern }] } }, { detail: { x: HOSTILE.value } })).toBe(
      false,
    );
    expect(globMatch(HOSTILE.pattern, HOSTILE.value)).toBe(false);
    const choice = {
      StartAt: 'C',
      States: {
        C: {
          Type: 'Choice',
          Choices: [{ Variable: '$.s', StringMatches: HOSTILE.pattern, Next: 'Yes' }],
          Default: 'No',
        },
        Yes: { Type: 'Pass', Result: 'yes', End: true },
        No: { Type: 'Pass', Result: 'no', End: true },
      },
    };
    expect((await run(choice, { s: HOSTILE.value })).output).toBe('no');
    expect((await run(choice, { s: `${HOSTILE.value}b` })).output).toBe('yes');
  });
});
