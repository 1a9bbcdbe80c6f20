import type { CompiledPattern } from './types.ts';

/** True when the event (a parsed JSON object) matches the compiled pattern. */
export function matches(compiled: CompiledPattern, event: unknown): boolean {
  return isPlainObject(event) && compiled.test(event);
}

export function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
