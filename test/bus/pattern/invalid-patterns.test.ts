import { describe, expect, it } from 'vitest';
import { compilePattern, InvalidEventPatternError } from '../../../src/bus/pattern/index.ts';
import { invalidReason } from './helpers.ts';

function orOf(n: number, key: string): unknown {
  return Array.from({ length: n }, (_, i) => ({ [`${key}${i}`]: ['x'] }));
}

// Each case: the pattern, the path the error must name, and words the reason must contain.
const cases: [string, unknown, string, string][] = [
  ['not an object', ['source'], '', 'must be a JSON object'],
  ['null pattern', null, '', 'must be a JSON object'],
  ['invalid JSON text', '{"source": [', '', 'not valid JSON'],
  ['empty pattern', {}, '', 'empty objects are not allowed'],
  ['empty nested object', { detail: {} }, 'detail', 'empty objects are not allowed'],
  ['scalar leaf', { source: 'aws.ec2' }, 'source', 'array of match values'],
  ['number leaf', { detail: { n: 5 } }, 'detail.n', 'array of match values'],
  ['null leaf', { source: null }, 'source', 'array of match values'],
  ['empty array', { source: [] }, 'source', 'empty arrays are not allowed'],
  ['nested array member', { source: [['a']] }, 'source[0]', 'a match value must be'],
  ['unknown operator', { source: [{ prefixx: 'a' }] }, 'source[0]', 'unrecognized match type "prefixx"'],
  ['operator name is case-sensitive', { source: [{ Prefix: 'a' }] }, 'source[0]', 'unrecognized match type'],
  ['two operators in one object', { s: [{ prefix: 'a', suffix: 'b' }] }, 's[0]', 'exactly one key'],
  ['empty operator object', { s: [{}] }, 's[0]', 'exactly one key'],
  ['prefix number', { s: [{ prefix: 5 }] }, 's[0].prefix', 'prefix needs a string'],
  ['prefix bad object', { s: [{ prefix: { foo: 'a' } }] }, 's[0].prefix', 'equals-ignore-case'],
  ['suffix null', { s: [{ suffix: null }] }, 's[0].suffix', 'suffix needs a string'],
  [
    'equals-ignore-case number',
    { s: [{ 'equals-ignore-case': 1 }] },
    's[0].equals-ignore-case',
    'needs a string',
  ],
  ['wildcard double star', { s: [{ wildcard: 'a**b' }] }, 's[0].wildcard', 'consecutive wildcard'],
  ['wildcard bad escape', { s: [{ wildcard: 'a\\b' }] }, 's[0].wildcard', 'invalid escape'],
  ['wildcard trailing backslash', { s: [{ wildcard: 'a\\' }] }, 's[0].wildcard', 'invalid escape'],
  ['wildcard not a string', { s: [{ wildcard: ['a*'] }] }, 's[0].wildcard', 'needs a string'],
  ['anything-but null', { s: [{ 'anything-but': null }] }, 's[0].anything-but', 'anything-but needs'],
  ['anything-but boolean', { s: [{ 'anything-but': true }] }, 's[0].anything-but', 'anything-but needs'],
  ['anything-but empty list', { s: [{ 'anything-but': [] }] }, 's[0].anything-but', 'must not be empty'],
  [
    'anything-but mixed list',
    { s: [{ 'anything-but': ['a', 1] }] },
    's[0].anything-but',
    'only strings or only',
  ],
  [
    'anything-but list with null',
    { s: [{ 'anything-but': ['a', null] }] },
    's[0].anything-but',
    'only strings',
  ],
  [
    'anything-but unknown nested',
    { s: [{ 'anything-but': { numeric: ['<', 1] } }] },
    's[0].anything-but',
    'exactly one of',
  ],
  [
    'anything-but two nested',
    { s: [{ 'anything-but': { prefix: 'a', suffix: 'b' } }] },
    's[0].anything-but',
    'exactly one of',
  ],
  [
    'anything-but prefix number',
    { s: [{ 'anything-but': { prefix: 1 } }] },
    's[0].anything-but.prefix',
    'string',
  ],
  [
    'anything-but prefix empty list',
    { s: [{ 'anything-but': { prefix: [] } }] },
    's[0].anything-but.prefix',
    'non-empty',
  ],
  [
    'anything-but bad wildcard',
    { s: [{ 'anything-but': { wildcard: '**' } }] },
    's[0].anything-but.wildcard',
    'consecutive',
  ],
  [
    'anything-but bad wildcard in list',
    { s: [{ 'anything-but': { wildcard: ['a', 'b\\c'] } }] },
    's[0].anything-but.wildcard[1]',
    'invalid escape',
  ],
  ['numeric not an array', { n: [{ numeric: 5 }] }, 'n[0].numeric', 'numeric needs an array'],
  ['numeric wrong length', { n: [{ numeric: ['<'] }] }, 'n[0].numeric', 'numeric needs an array'],
  ['numeric three items', { n: [{ numeric: ['>', 1, '<'] }] }, 'n[0].numeric', 'numeric needs an array'],
  [
    'numeric unknown operator',
    { n: [{ numeric: ['!=', 1] }] },
    'n[0].numeric[0]',
    'unknown numeric operator',
  ],
  ['numeric string value', { n: [{ numeric: ['<', '10'] }] }, 'n[0].numeric[1]', 'JSON number'],
  [
    'numeric above the range',
    { n: [{ numeric: ['>', 6e9] }] },
    'n[0].numeric[1]',
    'between -5.0E9 and 5.0E9',
  ],
  [
    'numeric below the range',
    { n: [{ numeric: ['=', -1e10] }] },
    'n[0].numeric[1]',
    'between -5.0E9 and 5.0E9',
  ],
  ['anything-but number out of range', { n: [{ 'anything-but': 1e10 }] }, 'n[0].anything-but', '5.0E9'],
  ['anything-but numbers out of range', { n: [{ 'anything-but': [1, -6e9] }] }, 'n[0].anything-but', '5.0E9'],
  ['numeric reversed range', { n: [{ numeric: ['<', 10, '>', 0] }] }, 'n[0].numeric', 'lower bound'],
  ['numeric two lower bounds', { n: [{ numeric: ['>', 0, '>=', 5] }] }, 'n[0].numeric', 'lower bound'],
  [
    'numeric empty range',
    { n: [{ numeric: ['>', 5, '<', 5] }] },
    'n[0].numeric',
    'less than its upper bound',
  ],
  [
    'numeric equals with more',
    { n: [{ numeric: ['=', 5, '<', 6] }] },
    'n[0].numeric',
    '"=" cannot be combined',
  ],
  ['exists string', { s: [{ exists: 'true' }] }, 's[0].exists', 'true or false'],
  ['cidr without prefix length', { ip: [{ cidr: '10.0.0.1' }] }, 'ip[0].cidr', 'malformed CIDR'],
  ['cidr prefix too long v4', { ip: [{ cidr: '10.0.0.0/33' }] }, 'ip[0].cidr', '0 to 31'],
  ['cidr prefix too long v6', { ip: [{ cidr: '2001:db8::/129' }] }, 'ip[0].cidr', '0 to 127'],
  // As EventBridge (event-ruler: "IPv4 mask bits must be < 32"): one address is matched exactly instead.
  [
    'cidr of one IPv4 address',
    { ip: [{ cidr: '10.0.0.1/32' }] },
    'ip[0].cidr',
    'match it exactly: ["10.0.0.1"]',
  ],
  ['cidr of one IPv6 address', { ip: [{ cidr: '::1/128' }] }, 'ip[0].cidr', 'match it exactly: ["::1"]'],
  // EventBridge: "Null prefix/suffix not allowed" (a plain prefix may be empty).
  [
    'anything-but empty prefix',
    { s: [{ 'anything-but': { prefix: '' } }] },
    's[0].anything-but.prefix',
    'Null prefix/suffix',
  ],
  [
    'anything-but empty suffix in a list',
    { s: [{ 'anything-but': { suffix: ['.png', ''] } }] },
    's[0].anything-but.suffix[1]',
    'Null prefix/suffix',
  ],
  ['cidr bad octet', { ip: [{ cidr: '10.0.0.256/24' }] }, 'ip[0].cidr', 'not an IP address'],
  ['cidr garbage', { ip: [{ cidr: 'hello/8' }] }, 'ip[0].cidr', 'not an IP address'],
  ['cidr bad IPv6', { ip: [{ cidr: '2001:db8:::1/64' }] }, 'ip[0].cidr', 'not an IP address'],
  ['cidr not a string', { ip: [{ cidr: 10 }] }, 'ip[0].cidr', 'cidr needs a string'],
  ['$or with one sub-pattern', { $or: [{ a: ['x'] }] }, '$or', 'at least two'],
  ['$or sub-pattern invalid', { $or: [{ a: ['x'] }, { b: 'y' }] }, '$or[1].b', 'array of match values'],
  ['$or sub-pattern empty', { $or: [{ a: ['x'] }, {}] }, '$or[1]', 'empty objects'],
  [
    'deep path',
    { detail: { labels: { severity: [{ numeric: ['>', 'x'] }] } } },
    'detail.labels.severity[0].numeric[1]',
    'JSON number',
  ],
  ['key needing quotes in path', { 'a.b': { c: 'x' } }, '["a.b"].c', 'array of match values'],
  [
    '$or expanding beyond 1000',
    { $or: orOf(11, 'a'), x: { $or: orOf(10, 'b') }, y: { $or: orOf(10, 'c') } },
    '',
    'more than 1000 combinations',
  ],
];

describe('invalid patterns are rejected with what is wrong and where', () => {
  it.each(cases)('%s', (_name, pattern, path, reason) => {
    let error: unknown;
    try {
      compilePattern(pattern);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidEventPatternError);
    const invalid = error as InvalidEventPatternError;
    expect(invalid.code).toBe('INVALID_PATTERN');
    expect(invalid.status).toBe(400);
    expect(invalid.path).toBe(path);
    expect(invalid.reason).toContain(reason);
    expect(invalid.message).toContain(path === '' ? 'at the top level' : `at ${path}:`);
  });

  it('refuses a pattern nested more than 100 objects deep, $or alternatives included, before the stack gives out', () => {
    const nest = (depth: number, leaf: unknown): Record<string, unknown> =>
      depth === 1 ? { a: leaf } : { a: nest(depth - 1, leaf) };
    expect(() => compilePattern(nest(100, ['x']))).not.toThrow();
    expect(invalidReason(nest(101, ['x']))).toMatch(
      /^Event pattern is not valid at a(\.a){99}: .*more than 100/,
    );
    expect(invalidReason(nest(5000, ['x']))).toContain('nests more than 100 objects deep');
    expect(invalidReason(nest(99, { $or: [{ b: ['x'] }, { c: { d: ['y'] } }] }))).toContain('more than 100');
  });

  it('accepts exactly 1000 combinations', () => {
    const pattern = { $or: orOf(10, 'a'), x: { $or: orOf(10, 'b') }, y: { $or: orOf(10, 'c') } };
    expect(compilePattern(pattern).combinations).toBe(1000);
  });

  it('message reads like a sentence a user can act on', () => {
    expect(invalidReason({ source: 'aws.ec2' })).toBe(
      'Event pattern is not valid at source: a field must hold an array of match values or a nested object, ' +
        'got string "aws.ec2"; write "source": ["aws.ec2"] to match that value',
    );
  });
});
