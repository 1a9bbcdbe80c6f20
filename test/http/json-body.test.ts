import { describe, expect, it } from 'vitest';
import { parseJsonBody } from '../../src/http/json-body.ts';

const parse = (text: string | Buffer, contentType?: string) =>
  parseJsonBody(typeof text === 'string' ? Buffer.from(text) : text, contentType);
const refusal = (text: string | Buffer, contentType?: string) => {
  try {
    parse(text, contentType);
  } catch (err) {
    return { code: (err as { code: string }).code, message: (err as Error).message };
  }
  throw new Error('expected a refusal');
};

describe('request bodies parsed as JSON', () => {
  it('takes UTF-8 (with or without a BOM, paired surrogates and all) and refuses other charsets', () => {
    expect(parse('{"a":"caf\u00e9 \ud83d\ude00"}')).toEqual({ a: 'café 😀' });
    expect(parse('{"a":"\\ud83d\\ude00"}', 'application/json; charset=UTF-8')).toEqual({ a: '😀' });
    expect(parse(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]))).toEqual({ a: 1 });
    expect(parse('')).toBeUndefined();
    expect(refusal('{"reason":"caf\u00e9"}', 'application/json; charset=iso-8859-1')).toEqual({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: 'charset=iso-8859-1 is not supported: send the JSON body encoded as UTF-8',
    });
    expect(refusal(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]))).toEqual({
      code: 'INVALID_PAYLOAD',
      message: 'body is not valid UTF-8: send the JSON body encoded as UTF-8',
    });
  });

  it('refuses what could not be stored as sent, naming where: lone surrogates, infinite numbers, __proto__', () => {
    expect(refusal('{"match":{"team":"a\\ud800b"}}')).toEqual({
      code: 'BAD_REQUEST',
      message:
        'body.match.team: holds an unpaired UTF-16 surrogate (a lone \\ud800-\\udfff), which cannot be stored as text',
    });
    expect(refusal('{"labels":{"\\udc00":"x"}}').message).toMatch(
      /^body\.labels\.\udc00: the key holds an unpaired/,
    );
    expect(refusal('{"input":{"x":[1, 1e999]}}').message).toBe(
      'body.input.x[1]: the number is too large for a double (JSON numbers must be finite)',
    );
    expect(refusal(`{"x":${'9'.repeat(400)}}`).message).toMatch(/^body\.x: the number is too large/);
    expect(refusal('[{"__proto__":1}]').message).toBe(
      'body[0].__proto__: the key "__proto__" is not accepted',
    );
    // Deep inside a deeply nested body: found in one pass (not depth² path copies), named by its two ends.
    const depth = 100_000;
    const deep = refusal(`{"a":${'['.repeat(depth)}"\\ud800"${']'.repeat(depth)}}`);
    expect(deep.message).toMatch(/^body\.a(\[0\]){38}…(\[0\]){40}: holds an unpaired UTF-16 surrogate/);
    // Large but finite numbers, and the words themselves as text, are fine.
    expect(parse('{"x":1e308,"y":"1e999 \\\\ud800 __proto__"}')).toEqual({
      x: 1e308,
      y: '1e999 \\ud800 __proto__',
    });
  });
});
