import { describe, expect, it } from 'vitest';
import { Dictionary } from '../src/dictionary.ts';

describe('Dictionary', () => {
  it('keeps string keys, counts them and forgets deleted ones', () => {
    const d = new Dictionary<number>();
    d.set('a', 1);
    d.set('a', 2);
    d.set('b', 3);
    expect(d.size).toBe(2);
    expect(d.get('a')).toBe(2);
    expect(d.delete('a')).toBe(true);
    expect(d.delete('a')).toBe(false);
    expect(d.has('a')).toBe(false);
    expect(d.values()).toEqual([3]);
    expect(d.size).toBe(1);
  });

  it('treats keys named like Object.prototype members as plain keys', () => {
    const d = new Dictionary<string>();
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      expect(d.has(key)).toBe(false);
      expect(d.get(key)).toBeUndefined();
      d.set(key, key);
    }
    expect(d.get('__proto__')).toBe('__proto__');
    expect(d.size).toBe(4);
    expect(d.delete('constructor')).toBe(true);
    expect(d.values().sort()).toEqual(['__proto__', 'hasOwnProperty', 'toString']);
  });
});
