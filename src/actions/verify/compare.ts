import { z } from 'zod';

export const comparisonOperator = z.enum(['<', '<=', '>', '>=', '==', '!=']);
export type ComparisonOperator = z.infer<typeof comparisonOperator>;

/**
 * `value op threshold`. NaN never passes, not even `!=`: a ratio of 0/0 (no traffic) proves nothing, so a
 * check on it must fail rather than succeed by accident.
 */
export function compare(value: number, op: ComparisonOperator, threshold: number): boolean {
  if (Number.isNaN(value) || Number.isNaN(threshold)) return false;
  switch (op) {
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '==':
      return value === threshold;
    case '!=':
      return value !== threshold;
  }
}
