import { compilePattern, matches } from '../../../src/bus/pattern/index.ts';

/** Compiles and matches in one go, so tables of cases read as (pattern, event) → boolean. */
export function match(pattern: unknown, event: unknown): boolean {
  return matches(compilePattern(pattern), event);
}

/** The message of the validation error a pattern raises, or undefined when it compiles. */
export function invalidReason(pattern: unknown): string | undefined {
  try {
    compilePattern(pattern);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
