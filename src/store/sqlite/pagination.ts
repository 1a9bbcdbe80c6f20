import { ReboundError } from '../../errors.ts';

/** Cursors are opaque to clients: base64url of the sort key of the last item returned. */
export function encodeCursor(parts: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

export function decodeCursor(cursor: string): (string | number)[] {
  try {
    const parts: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parts) && parts.every((p) => typeof p === 'string' || typeof p === 'number')) {
      return parts as (string | number)[];
    }
  } catch {
    // fall through to the error below
  }
  throw new ReboundError('BAD_REQUEST', 'cursor is not one this server issued; start again without it', {
    path: 'cursor',
  });
}
