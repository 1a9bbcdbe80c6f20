import { ReboundError } from '../../errors.ts';

/** Cursors are opaque to clients: base64url of the sort key of the last item returned. */
export function encodeCursor(parts: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

type Part = 'string' | 'number';
type PartsOf<S extends readonly Part[]> = {
  -readonly [K in keyof S]: S[K] extends 'number' ? number : string;
};

/** The parts of a cursor this server issued, checked against the shape its list encodes (`['string',
 * 'number']`): anything else, even well-formed JSON, is refused rather than read as an empty page. */
export function decodeCursor<const S extends readonly Part[]>(cursor: string, shape: S): PartsOf<S> {
  try {
    const parts: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parts) &&
      parts.length === shape.length &&
      parts.every((p, i) => typeof p === shape[i] && (typeof p !== 'number' || Number.isFinite(p)))
    ) {
      return parts as PartsOf<S>;
    }
  } catch {
    // fall through to the error below
  }
  throw new ReboundError('BAD_REQUEST', 'cursor is not one this server issued; start again without it', {
    path: 'cursor',
  });
}
