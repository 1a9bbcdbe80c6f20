/** EventBridge event patterns: compile once (with validation), match many times, index many rules. */
export { compilePattern, MAX_COMBINATIONS } from './compile.ts';
export { InvalidEventPatternError, isInvalidEventPatternError } from './errors.ts';
export { matches } from './match.ts';
export { RuleIndex } from './rule-index.ts';
export type { CompiledPattern } from './types.ts';
