import { InvalidEventPatternError } from './errors.ts';

/**
 * Compiles an EventBridge `wildcard` value to an anchored RegExp. `*` matches any run of characters
 * (including none); `\*` is a literal asterisk and `\\` a literal backslash. Consecutive wildcards and any
 * other escape are rejected, as event-ruler does, because they make matching ambiguous or slow.
 */
export function compileWildcard(pattern: string, path: string): RegExp {
  let source = '^';
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
      source += '[\\s\\S]*';
      previousWasWildcard = true;
      continue;
    }
    previousWasWildcard = false;
    if (ch === '\\') {
      const next = pattern[i + 1];
      if (next !== '*' && next !== '\\') {
        throw new InvalidEventPatternError(
          path,
          `invalid escape in wildcard "${pattern}" at index ${i}: a backslash may only escape "*" or "\\"`,
        );
      }
      source += escapeRegExp(next);
      i++;
      continue;
    }
    source += escapeRegExp(ch);
  }
  // No 'u' flag: like prefix and suffix, wildcards work on UTF-16 code units, so every cut point agrees.
  return new RegExp(source + '$');
}

// Only syntax characters are escaped, which keeps the source valid even if the 'u' flag is ever added.
function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
