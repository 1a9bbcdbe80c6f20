import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseInput } from '../../src/http/query.ts';

const refusal = (schema: z.ZodType, input: unknown, where: string) => {
  try {
    parseInput(schema, input, where);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
};

describe('parseInput', () => {
  it('names the field under its root, with brackets for array positions', () => {
    const entries = z.object({ Entries: z.array(z.object({ Source: z.string() })) });
    expect(refusal(entries, { Entries: [{ Source: 1 }] }, 'body')).toMatch(/^body\.Entries\[0\]\.Source: /);
    expect(refusal(z.array(z.string()), [1], 'body')).toMatch(/^body\[0\]: /);
    expect(refusal(z.object({ a: z.string() }), [], 'body')).toMatch(/^body: /);
  });

  it('names an unknown key in the message and in the error path', () => {
    const schema = z
      .object({ comment: z.string().optional(), at: z.object({ a: z.string() }).strict().optional() })
      .strict();
    const err = (input: unknown) => {
      try {
        parseInput(schema, input, 'body');
      } catch (e) {
        return { message: (e as Error).message, path: (e as { path?: string }).path };
      }
      throw new Error('expected a refusal');
    };
    expect(err({ coment: 'x' })).toEqual({
      message: 'body.coment: Unrecognized key: "coment"',
      path: 'coment',
    });
    expect(err({ at: { a: 'x', b: 1 } })).toMatchObject({
      message: 'body.at.b: Unrecognized key: "b"',
      path: 'at.b',
    });
    expect(err({ rules: 1, force: true })).toEqual({
      message: 'body.rules: Unrecognized key: "rules" (and "force")',
      path: 'rules',
    });
  });

  it('says a query parameter was given more than once', () => {
    const query = z.object({ limit: z.coerce.number().optional() });
    expect(refusal(query, { limit: ['1', '2'] }, 'query')).toBe(
      'query.limit: given more than once; give it once',
    );
  });

  it('reads no body as {} and refuses null by name', () => {
    expect(parseInput(z.object({ a: z.string().optional() }), undefined, 'body')).toEqual({});
    expect(refusal(z.object({}), null, 'body')).toBe('body: expected a JSON object, got null');
  });
});
