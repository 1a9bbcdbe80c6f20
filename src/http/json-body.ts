import type { FastifyRequest } from 'fastify';
import { ReboundError } from '../errors.ts';
import { formatPath, formatPathUnder } from '../ingest/alertmanager/payload.ts';

/** The content types parsed as JSON. */
export const JSON_TYPES = ['application/json', 'text/json'];

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** In a `u` regex, a well-formed pair is one code point: only an unpaired half is category Cs. */
const LONE_SURROGATE = /\p{Cs}/u;
const SURROGATE =
  'holds an unpaired UTF-16 surrogate (a lone \\ud800-\\udfff), which cannot be stored as text';

/**
 * A number literal JSON.parse may turn into Infinity: a three-digit exponent, or 309 digits in a row. Only
 * then is the parsed value walked for one.
 */
const MAY_OVERFLOW = /\d[eE]\+?\d{3}|\d{309}/;

/** What a parsed JSON value holds that Rebound refuses, and where (path parts, as formatPath takes them). */
export interface Unacceptable {
  readonly path: PropertyKey[];
  readonly problem: string;
}

/**
 * The first thing in a parsed JSON value, in document order, that would not survive being stored or would
 * be misread later:
 * - an own `__proto__` key: every schema and spread after the parse sets the prototype with it instead,
 *   dropping it silently (a pause meant for one label would pause everything);
 * - a string or key with an unpaired UTF-16 surrogate (`\ud800`): SQLite text cannot hold one, so it would
 *   be stored as U+FFFD, and a label would no longer match itself;
 * - a number too large for a double (`1e999` parses as Infinity, stored as null).
 * With `numbersOnly`, only the last: what the CLI sends is refused by the server for the rest, but an Infinity
 * would leave it as null, silently.
 */
export function findUnacceptable(
  value: unknown,
  { numbersOnly = false }: { numbersOnly?: boolean } = {},
): Unacceptable | undefined {
  // Each node keeps its parent and key, and a path is built only for what is refused: copying the path at
  // every step would cost depth² on a deeply nested body.
  const parents: number[] = [-1];
  const keys: PropertyKey[] = [''];
  const pathTo = (node: number, ...more: PropertyKey[]): PropertyKey[] => {
    const path = more;
    for (let at = node; at > 0; at = parents[at]!) path.unshift(keys[at]!);
    return path;
  };
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, id] = stack.pop()!;
    if (typeof node === 'string') {
      if (!numbersOnly && LONE_SURROGATE.test(node)) return { path: pathTo(id), problem: SURROGATE };
      continue;
    }
    if (typeof node === 'number') {
      if (!Number.isFinite(node))
        return {
          path: pathTo(id),
          problem: 'the number is too large for a double (JSON numbers must be finite)',
        };
      continue;
    }
    if (typeof node !== 'object' || node === null) continue;
    const entries: [PropertyKey, unknown][] = Array.isArray(node)
      ? [...node.entries()]
      : Object.entries(node);
    if (!Array.isArray(node) && !numbersOnly) {
      if (Object.hasOwn(node, '__proto__'))
        return { path: pathTo(id, '__proto__'), problem: 'the key "__proto__" is not accepted' };
      const bad = entries.find(([key]) => LONE_SURROGATE.test(key as string));
      if (bad) return { path: pathTo(id, bad[0]), problem: `the key ${SURROGATE}` };
    }
    // Pushed last to first, so the first is looked at first.
    for (let i = entries.length - 1; i >= 0; i--) {
      parents.push(id);
      keys.push(entries[i]![0]);
      stack.push([entries[i]![1], parents.length - 1]);
    }
  }
  return undefined;
}

/** Whether JSON text may hold what findUnacceptable looks for (each needs a `\u` escape or a long number). */
export function mayBeUnacceptable(text: string): boolean {
  return text.includes('__proto__') || text.includes('\\u') || MAY_OVERFLOW.test(text);
}

/** A path deep inside a nested body, kept to its two ends. */
function shortened(path: string): string {
  return path.length <= 240 ? path : `${path.slice(0, 120)}…${path.slice(-120)}`;
}

/**
 * A request body parsed as JSON (`undefined` when empty). Throws UNSUPPORTED_MEDIA_TYPE for a charset other
 * than UTF-8, INVALID_PAYLOAD for bytes that are not UTF-8 or text that is not JSON, BAD_REQUEST for what
 * findUnacceptable refuses.
 */
export function parseJsonBody(raw: Buffer, contentType?: string): unknown {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')
    throw new ReboundError(
      'UNSUPPORTED_MEDIA_TYPE',
      `charset=${charset} is not supported: send the JSON body encoded as UTF-8`,
    );
  if (raw.length === 0) return undefined;
  let text: string;
  try {
    text = UTF8.decode(raw);
  } catch {
    throw new ReboundError(
      'INVALID_PAYLOAD',
      'body is not valid UTF-8: send the JSON body encoded as UTF-8',
      {
        path: '$',
      },
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch (err) {
    throw new ReboundError('INVALID_PAYLOAD', `body is not valid JSON: ${(err as Error).message}`, {
      path: '$',
    });
  }
  const found = mayBeUnacceptable(text) ? findUnacceptable(body) : undefined;
  if (found) {
    const at = formatPath(found.path);
    throw new ReboundError('BAD_REQUEST', `${shortened(formatPathUnder('body', at))}: ${found.problem}`, {
      path: shortened(at),
    });
  }
  return body;
}

/**
 * The content-type parser for JSON bodies: keeps the raw bytes on the request (signatures are computed over
 * them), runs `check` on them first if given (it throws to refuse the request unread), then parses.
 */
export function jsonBodyParser(check?: (request: FastifyRequest, raw: Buffer) => void) {
  return (
    request: FastifyRequest,
    body: string | Buffer,
    done: (err: Error | null, body?: unknown) => void,
  ) => {
    const raw = body as Buffer;
    request.rawBody = raw;
    let parsed: unknown;
    try {
      check?.(request, raw);
      parsed = parseJsonBody(raw, request.headers['content-type']);
    } catch (err) {
      return done(err as Error, undefined);
    }
    done(null, parsed);
  };
}
