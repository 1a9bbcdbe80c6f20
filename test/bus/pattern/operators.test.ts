import { describe, expect, it } from 'vitest';
import { match } from './helpers.ts';

type Case = readonly [name: string, pattern: unknown, event: unknown, expected: boolean];

function table(cases: readonly Case[]): void {
  it.each(cases)('%s', (_name, pattern, event, expected) => {
    expect(match(pattern, event)).toBe(expected);
  });
}

describe('exact values', () => {
  table([
    ['string byte for byte', { a: ['x'] }, { a: 'x' }, true],
    ['string is case-sensitive', { a: ['x'] }, { a: 'X' }, false],
    ['no unicode normalisation', { a: ['\u00e9'] }, { a: 'e\u0301' }, false],
    ['number', { a: [5] }, { a: 5 }, true],
    ['number is not its string', { a: [5] }, { a: '5' }, false],
    ['string is not the number', { a: ['5'] }, { a: 5 }, false],
    ['true', { a: [true] }, { a: true }, true],
    ['true is not "true"', { a: [true] }, { a: 'true' }, false],
    ['false', { a: [false] }, { a: false }, true],
    ['null matches null', { a: [null] }, { a: null }, true],
    ['null does not match a missing field', { a: [null] }, {}, false],
    ['null does not match an empty string', { a: [null] }, { a: '' }, false],
    ['empty string matches empty string', { a: [''] }, { a: '' }, true],
    ['empty string does not match null', { a: [''] }, { a: null }, false],
    ['empty string does not match missing', { a: [''] }, {}, false],
    ['values OR together', { a: ['x', 'y'] }, { a: 'y' }, true],
    ['values and operators OR together: value', { a: ['x', { prefix: 'b' }, 7] }, { a: 'x' }, true],
    ['values and operators OR together: number', { a: ['x', { prefix: 'b' }, 7] }, { a: 7 }, true],
    ['values and operators OR together: operator', { a: ['x', { prefix: 'b' }, 7] }, { a: 'bc' }, true],
    ['values and operators OR together: neither', { a: ['x', { prefix: 'b' }, 7] }, { a: 'c' }, false],
    ['fields AND together', { a: ['x'], b: ['y'] }, { a: 'x', b: 'z' }, false],
    ['missing field fails', { a: ['x'] }, { b: 'x' }, false],
    ['nested object', { d: { s: ['on'] } }, { d: { s: 'on' } }, true],
    ['nesting must match', { d: { s: ['on'] } }, { s: 'on' }, false],
    ['leaf does not match an object value', { d: ['on'] }, { d: { s: 'on' } }, false],
    ['event array: any element', { r: ['b'] }, { r: ['a', 'b'] }, true],
    ['event array: none', { r: ['c'] }, { r: ['a', 'b'] }, false],
    ['nested event arrays are flattened', { r: ['c'] }, { r: [['a'], ['b', ['c']]] }, true],
    ['empty event array has no values', { r: ['a'] }, { r: [] }, false],
    ['prototype keys are not fields', { constructor: [{ exists: true }] }, {}, false],
    ['non-object event never matches', { a: ['x'] }, ['x'], false],
  ]);
});

describe('prefix and suffix', () => {
  table([
    ['prefix', { t: [{ prefix: '2017-10-02' }] }, { t: '2017-10-02T18:43:48Z' }, true],
    ['prefix miss', { t: [{ prefix: '2017-10-03' }] }, { t: '2017-10-02T18:43:48Z' }, false],
    ['prefix is case-sensitive', { t: [{ prefix: 'ab' }] }, { t: 'ABc' }, false],
    ['prefix only on strings', { t: [{ prefix: '1' }] }, { t: 12 }, false],
    ['empty prefix matches any string', { t: [{ prefix: '' }] }, { t: 'x' }, true],
    [
      'prefix ignore case',
      { t: [{ prefix: { 'equals-ignore-case': 'EventB' } }] },
      { t: 'eventbridge' },
      true,
    ],
    [
      'prefix ignore case miss',
      { t: [{ prefix: { 'equals-ignore-case': 'EventB' } }] },
      { t: 'xeventb' },
      false,
    ],
    ['suffix', { f: [{ suffix: '.png' }] }, { f: 'a.png' }, true],
    ['suffix miss', { f: [{ suffix: '.png' }] }, { f: 'a.PNG' }, false],
    ['suffix ignore case', { f: [{ suffix: { 'equals-ignore-case': '.png' } }] }, { f: 'A.PNG' }, true],
    ['suffix on array', { f: [{ suffix: '.png' }] }, { f: ['a.jpg', 'b.png'] }, true],
  ]);
});

describe('equals-ignore-case', () => {
  table([
    ['same letters any case', { n: [{ 'equals-ignore-case': 'alice' }] }, { n: 'ALICE' }, true],
    ['different word', { n: [{ 'equals-ignore-case': 'alice' }] }, { n: 'alicex' }, false],
    ['non-ASCII letters fold', { n: [{ 'equals-ignore-case': 'ÉCOLE' }] }, { n: 'école' }, true],
    ['strings only', { n: [{ 'equals-ignore-case': 'true' }] }, { n: true }, false],
    ['final and medial sigma fold alike', { n: [{ 'equals-ignore-case': 'ΟΔΟΣ' }] }, { n: 'οδοσ' }, true],
    ['capital and small sharp s', { n: [{ 'equals-ignore-case': 'STRAẞE' }] }, { n: 'straße' }, true],
    [
      'sharp s is not "ss" (case maps one to one)',
      { n: [{ 'equals-ignore-case': 'ß' }] },
      { n: 'SS' },
      false,
    ],
    [
      'a prefix ending in capital sigma matches mid-word',
      { n: [{ prefix: { 'equals-ignore-case': 'ΑΣ' } }] },
      { n: 'ασα' },
      true,
    ],
    [
      'a suffix starting with an astral cased letter',
      { n: [{ suffix: { 'equals-ignore-case': '\u{16EAB}x' } }] },
      { n: 'a\u{16EC6}X' },
      true,
    ],
  ]);
});

describe('wildcard', () => {
  table([
    ['star in the middle', { s: [{ wildcard: 'Simple*Service' }] }, { s: 'SimpleQueueService' }, true],
    ['star matches empty', { s: [{ wildcard: 'Simple*Service' }] }, { s: 'SimpleService' }, true],
    ['anchored at both ends', { s: [{ wildcard: 'Simple*Service' }] }, { s: 'xSimpleService' }, false],
    ['several stars', { p: [{ wildcard: '*/lib/*' }] }, { p: '/usr/lib/x.so' }, true],
    ['escaped star is literal', { s: [{ wildcard: 'a\\*b' }] }, { s: 'a*b' }, true],
    ['escaped star is not a wildcard', { s: [{ wildcard: 'a\\*b' }] }, { s: 'axxb' }, false],
    ['escaped backslash is literal', { s: [{ wildcard: 'a\\\\b' }] }, { s: 'a\\b' }, true],
    ['escaped backslash then star', { s: [{ wildcard: 'a\\\\*' }] }, { s: 'a\\anything' }, true],
    ['regex characters are literal', { s: [{ wildcard: 'a.b+(c)*' }] }, { s: 'a.b+(c)zz' }, true],
    ['regex characters do not act', { s: [{ wildcard: 'a.b' }] }, { s: 'axb' }, false],
    ['dash and slash are literal', { s: [{ wildcard: 'a-b/*' }] }, { s: 'a-b/c' }, true],
    ['no star is exact', { s: [{ wildcard: 'abc' }] }, { s: 'abc' }, true],
    ['spans newlines', { s: [{ wildcard: 'a*b' }] }, { s: 'a\nb' }, true],
    ['strings only', { s: [{ wildcard: '*' }] }, { s: 5 }, false],
  ]);
});

describe('anything-but', () => {
  table([
    ['string: other value', { s: [{ 'anything-but': 'init' }] }, { s: 'running' }, true],
    ['string: same value', { s: [{ 'anything-but': 'init' }] }, { s: 'init' }, false],
    ['string: matches null', { s: [{ 'anything-but': 'init' }] }, { s: null }, true],
    ['string: not a missing field', { s: [{ 'anything-but': 'init' }] }, {}, false],
    ['string: matches a number', { s: [{ 'anything-but': 'init' }] }, { s: 3 }, true],
    ['number: other', { x: [{ 'anything-but': 123 }] }, { x: 124 }, true],
    ['number: same', { x: [{ 'anything-but': 123 }] }, { x: 123 }, false],
    ['number: the string form is different', { x: [{ 'anything-but': 123 }] }, { x: '123' }, true],
    [
      'string list: excluded',
      { s: [{ 'anything-but': ['stopped', 'overloaded'] }] },
      { s: 'stopped' },
      false,
    ],
    ['string list: other', { s: [{ 'anything-but': ['stopped', 'overloaded'] }] }, { s: 'ok' }, true],
    ['number list: excluded', { x: [{ 'anything-but': [100, 200, 300] }] }, { x: 200 }, false],
    ['number list: other', { x: [{ 'anything-but': [100, 200, 300] }] }, { x: 201 }, true],
    ['event array: one allowed element is enough', { s: [{ 'anything-but': 'a' }] }, { s: ['a', 'b'] }, true],
    ['event array: all excluded', { s: [{ 'anything-but': ['a', 'b'] }] }, { s: ['a', 'b'] }, false],
    ['prefix: excluded', { s: [{ 'anything-but': { prefix: 'init' } }] }, { s: 'initializing' }, false],
    ['prefix: other', { s: [{ 'anything-but': { prefix: 'init' } }] }, { s: 'running' }, true],
    ['prefix list', { r: [{ 'anything-but': { prefix: ['us-', 'eu-'] } }] }, { r: 'eu-west-1' }, false],
    ['prefix: null passes', { s: [{ 'anything-but': { prefix: 'init' } }] }, { s: null }, true],
    ['suffix: excluded', { f: [{ 'anything-but': { suffix: '.png' } }] }, { f: 'a.png' }, false],
    ['suffix: other', { f: [{ 'anything-but': { suffix: '.png' } }] }, { f: 'a.jpg' }, true],
    [
      'ignore case: excluded',
      { s: [{ 'anything-but': { 'equals-ignore-case': 'init' } }] },
      { s: 'INIT' },
      false,
    ],
    ['ignore case list', { s: [{ 'anything-but': { 'equals-ignore-case': ['a', 'b'] } }] }, { s: 'C' }, true],
    ['wildcard: excluded', { p: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, { p: '/usr/lib/x' }, false],
    ['wildcard: other', { p: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, { p: '/usr/bin/x' }, true],
    ['wildcard list', { p: [{ 'anything-but': { wildcard: ['*.png', '*.jpg'] } }] }, { p: 'a.jpg' }, false],
  ]);
});

describe('numeric', () => {
  table([
    ['equals', { x: [{ numeric: ['=', 3.018e2] }] }, { x: 301.8 }, true],
    ['equals miss', { x: [{ numeric: ['=', 300] }] }, { x: 301 }, false],
    ['less than', { x: [{ numeric: ['<', 10] }] }, { x: 9.99 }, true],
    ['less than is strict', { x: [{ numeric: ['<', 10] }] }, { x: 10 }, false],
    ['less or equal', { x: [{ numeric: ['<=', 10] }] }, { x: 10 }, true],
    ['greater than', { x: [{ numeric: ['>', 0] }] }, { x: 0 }, false],
    ['greater or equal', { x: [{ numeric: ['>=', 0] }] }, { x: 0 }, true],
    ['range inside', { x: [{ numeric: ['>', 0, '<=', 5] }] }, { x: 5 }, true],
    ['range below', { x: [{ numeric: ['>', 0, '<=', 5] }] }, { x: 0 }, false],
    ['range above', { x: [{ numeric: ['>', 0, '<=', 5] }] }, { x: 5.000001 }, false],
    ['negative numbers', { x: [{ numeric: ['>=', -5e9, '<', -1] }] }, { x: -2 }, true],
    ['numeric strings never match', { x: [{ numeric: ['<', 10] }] }, { x: '5' }, false],
    ['null never matches', { x: [{ numeric: ['<', 10] }] }, { x: null }, false],
    ['any array element', { x: [{ numeric: ['>', 100] }] }, { x: [1, 200] }, true],
    // EventBridge's numeric range is ±5.0e9: a value outside it matches no numeric comparison.
    ['at the range edge', { x: [{ numeric: ['>=', 4e9, '<=', 5e9] }] }, { x: 5e9 }, true],
    ['above the range', { x: [{ numeric: ['>', 0] }] }, { x: 6e9 }, false],
    ['below the range', { x: [{ numeric: ['<', 10] }] }, { x: -6e9 }, false],
  ]);
});

describe('exists', () => {
  table([
    ['true: present', { s: [{ exists: true }] }, { s: 'x' }, true],
    ['true: null is present', { s: [{ exists: true }] }, { s: null }, true],
    ['true: absent', { s: [{ exists: true }] }, {}, false],
    ['true: an object is not a leaf', { c: [{ exists: true }] }, { c: { c1: 100 } }, false],
    ['true: empty array has no values', { c: [{ exists: true }] }, { c: [] }, false],
    ['false: absent', { c: [{ exists: false }] }, {}, true],
    ['false: present', { c: [{ exists: false }] }, { c: 1 }, false],
    ['false: object is not a leaf', { c: [{ exists: false }] }, { c: { c1: 100 } }, true],
    ['false: parent missing', { d: { c: [{ exists: false }] } }, {}, true],
    ['false: parent is a scalar', { d: { c: [{ exists: false }] } }, { d: 'x' }, true],
    ['false OR a value', { c: [{ exists: false }, 'x'] }, { c: 'x' }, true],
    ['false OR a value, other value', { c: [{ exists: false }, 'x'] }, { c: 'y' }, false],
  ]);
});

describe('cidr', () => {
  table([
    ['IPv4 inside', { ip: [{ cidr: '10.0.0.0/24' }] }, { ip: '10.0.0.255' }, true],
    ['IPv4 outside', { ip: [{ cidr: '10.0.0.0/24' }] }, { ip: '10.0.1.0' }, false],
    ['IPv4 /8', { ip: [{ cidr: '10.0.0.0/8' }] }, { ip: '10.200.3.4' }, true],
    ['IPv4 /31', { ip: [{ cidr: '192.168.1.6/31' }] }, { ip: '192.168.1.7' }, true],
    ['IPv4 /0 matches every IPv4', { ip: [{ cidr: '0.0.0.0/0' }] }, { ip: '255.255.255.255' }, true],
    ['host bits in the pattern are ignored', { ip: [{ cidr: '10.0.0.77/24' }] }, { ip: '10.0.0.1' }, true],
    ['not an address', { ip: [{ cidr: '10.0.0.0/24' }] }, { ip: '10.0.0.x' }, false],
    ['octet over 255', { ip: [{ cidr: '10.0.0.0/8' }] }, { ip: '10.0.0.256' }, false],
    ['IPv6 inside', { ip: [{ cidr: '2001:db8::/32' }] }, { ip: '2001:db8:ffff::1' }, true],
    ['IPv6 outside', { ip: [{ cidr: '2001:db8::/32' }] }, { ip: '2001:db9::1' }, false],
    [
      'IPv6 full form',
      { ip: [{ cidr: '2001:db8::/64' }] },
      { ip: '2001:0db8:0000:0000:0000:0000:0000:0001' },
      true,
    ],
    ['IPv6 upper case', { ip: [{ cidr: 'fe80::/10' }] }, { ip: 'FE80::1' }, true],
    ['IPv6 /127', { ip: [{ cidr: '::/127' }] }, { ip: '::1' }, true],
    ['IPv4-mapped IPv6', { ip: [{ cidr: '::ffff:0:0/96' }] }, { ip: '::ffff:10.0.0.1' }, true],
    ['IPv4 address vs IPv6 range', { ip: [{ cidr: '::/0' }] }, { ip: '10.0.0.1' }, false],
    ['IPv6 address vs IPv4 range', { ip: [{ cidr: '0.0.0.0/0' }] }, { ip: '::1' }, false],
    ['strings only', { ip: [{ cidr: '0.0.0.0/0' }] }, { ip: 167772161 }, false],
  ]);
});

describe('$or', () => {
  const pattern = {
    source: ['aws.cloudwatch'],
    $or: [{ metricName: ['CPUUtilization'] }, { namespace: ['AWS/EC2'] }],
  };
  table([
    ['first alternative', pattern, { source: 'aws.cloudwatch', metricName: 'CPUUtilization' }, true],
    ['second alternative', pattern, { source: 'aws.cloudwatch', namespace: 'AWS/EC2' }, true],
    ['neither', pattern, { source: 'aws.cloudwatch', namespace: 'AWS/ES' }, false],
    ['AND with the rest', pattern, { source: 'aws.ec2', namespace: 'AWS/EC2' }, false],
    ['nested $or', { d: { $or: [{ a: [1] }, { b: [2] }] } }, { d: { b: 2 } }, true],
    [
      '$or alternatives with exists:false',
      { $or: [{ a: [{ exists: false }] }, { a: ['x'] }] },
      { a: 'y' },
      false,
    ],
    ['$or holding an object is an ordinary field', { $or: { a: ['x'] } }, { $or: { a: 'x' } }, true],
    ['$or holding values is an ordinary field', { $or: ['x'] }, { $or: 'x' }, true],
  ]);
});

describe('arrays of objects are matched element by element', () => {
  const event = {
    employees: [
      { firstName: 'John', lastName: 'Doe' },
      { firstName: 'Anna', lastName: 'Smith' },
      { firstName: 'Peter', lastName: 'Jones' },
    ],
  };
  table([
    ['one field', { employees: { firstName: ['Anna'] } }, event, true],
    ['same element', { employees: { firstName: ['Anna'], lastName: ['Smith'] } }, event, true],
    [
      'fields from different elements',
      { employees: { firstName: ['Anna'], lastName: ['Jones'] } },
      event,
      false,
    ],
    [
      'multi-level arrays',
      { employees: { firstName: ['Peter'], lastName: ['Jones'] } },
      { employees: [[{ firstName: 'John', lastName: 'Doe' }], [{ firstName: 'Peter', lastName: 'Jones' }]] },
      true,
    ],
    [
      'deeper nesting keeps the element together',
      { a: { b: { c: [1] }, d: [2] } },
      { a: [{ b: { c: 1 } }, { d: 2 }] },
      false,
    ],
    [
      '$or inside an element',
      { a: { $or: [{ x: [1] }, { y: [2] }], z: [3] } },
      { a: [{ x: 1 }, { y: 2, z: 3 }] },
      true,
    ],
  ]);
});
