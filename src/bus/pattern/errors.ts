import { ReboundError } from '../../errors.ts';

/**
 * A pattern that breaks the EventBridge pattern language. Like AWS's InvalidEventPatternException it says what
 * is wrong; unlike it, it also says where (`path`, e.g. `detail.state[0].numeric`), so a user can fix a long
 * pattern without bisecting it.
 */
export class InvalidEventPatternError extends ReboundError {
  /** The reason alone, without the location prefix. */
  readonly reason: string;

  constructor(path: string, reason: string) {
    const where = path === '' ? 'at the top level' : `at ${path}`;
    super('INVALID_PATTERN', `Event pattern is not valid ${where}: ${reason}`, { path });
    this.name = 'InvalidEventPatternError';
    this.reason = reason;
  }
}

export function isInvalidEventPatternError(value: unknown): value is InvalidEventPatternError {
  return value instanceof InvalidEventPatternError;
}
