import { globMatcher } from '../../glob.ts';
import { InvalidEventPatternError } from './errors.ts';

/**
 * Compiles an EventBridge `wildcard` value to a test. `*` matches any run of characters (including none);
 * `\*` is a literal asterisk and `\\` a literal backslash. Consecutive wildcards and any other escape are
 * rejected, as event-ruler does, because they make matching ambiguous or slow.
 */
export function compileWildcard(pattern: string, path: string): (value: string) => boolean {
  const pieces = [''];
  let previousWasWildcard = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '*') {
      if (previousWasWildcard) {
        throw new InvalidEventPatternError(
          path,
          `consecutive wildcard characters are not allowed in "${pattern}" (at index ${i}); use a single "*"`,
        );
      }
      pieces.push('');
      previousWasWildcard = true;
      continue;
    }
    previousWasWildcard = false;
    let literal = ch;
    if (ch === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\') {
        throw new InvalidEventPatternError(
          path,
          `invalid escape in wildcard "${pattern}" at index ${i}: a backslash may only escape "*" or "\\"`,
        );
      }
      literal = next;
      i++;
    }
    pieces[pieces.length - 1] += literal;
  }
  // Like prefix and suffix, wildcards work on UTF-16 code units, so every cut point agrees.
  return globMatcher(pieces);
}
