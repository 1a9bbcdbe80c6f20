import { JSONPath } from 'jsonpath-plus';
import { InvalidTargetInputError } from './errors.ts';

/** EventBridge caps each path at 256 characters. */
export const MAX_PATH_LENGTH = 256;

/** A compiled path: `select(event)` returns the value, an array for wildcard paths, or undefined. */
export interface EventPath {
  readonly text: string;
  readonly hasWildcard: boolean;
  select(event: unknown): unknown;
}

type Segment = string | number | '*';

const NAME = /^[A-Za-z0-9_\-/]+/;

/**
 * Compiles the JSONPath subset EventBridge documents for InputPath and InputPathsMap: `$`, dot-notation names
 * (letters, digits, `-`, `_`, `/`), array indices `[n]` and wildcards `.*` / `[*]`. Filters and script
 * expressions are refused, so a rule file can never make the bus evaluate code.
 */
export function compileEventPath(text: string, where: string): EventPath {
  if (typeof text !== 'string' || text.length === 0) {
    throw new InvalidTargetInputError(where, 'a JSONPath must be a non-empty string such as "$.detail"');
  }
  if (text.length > MAX_PATH_LENGTH) {
    throw new InvalidTargetInputError(where, `a JSONPath may have at most ${MAX_PATH_LENGTH} characters`);
  }
  const segments = parseSegments(text, where);
  const hasWildcard = segments.includes('*');
  const pathArray = ['$', ...segments.map(String)];
  return {
    text,
    hasWildcard,
    select(event: unknown): unknown {
      if (segments.length === 0) return event;
      const found = JSONPath({
        path: pathArray,
        json: event as object,
        wrap: true,
        eval: false,
      }) as unknown[];
      if (hasWildcard) return found.length === 0 ? undefined : found;
      return found[0];
    },
  };
}

function parseSegments(text: string, where: string): Segment[] {
  if (!text.startsWith('$')) {
    throw new InvalidTargetInputError(where, `JSONPath "${text}" must start with "$"`);
  }
  const segments: Segment[] = [];
  let rest = text.slice(1);
  while (rest.length > 0) {
    const step = /^\.\*/.exec(rest) ?? /^\[\*\]/.exec(rest);
    if (step !== null) {
      segments.push('*');
      rest = rest.slice(step[0].length);
      continue;
    }
    const index = /^\[(\d{1,9})\]/.exec(rest);
    if (index !== null) {
      segments.push(Number(index[1]));
      rest = rest.slice(index[0].length);
      continue;
    }
    const name = rest.startsWith('.') ? NAME.exec(rest.slice(1)) : null;
    if (name === null) {
      throw new InvalidTargetInputError(
        where,
        `JSONPath "${text}" is not supported at "${rest}": use dot notation ($.detail.labels.severity), ` +
          'array indices ([0]) and wildcards (.* or [*]); brackets with names, filters and scripts are not allowed',
      );
    }
    segments.push(name[0]);
    rest = rest.slice(1 + name[0].length);
  }
  return segments;
}
