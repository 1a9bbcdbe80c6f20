import { ReboundError } from '../../errors.ts';

/** A target input setting (Input, InputPath, InputTransformer) that cannot work; found when rules load. */
export class InvalidTargetInputError extends ReboundError {
  /** The reason alone, without the location prefix (config errors put `path: reason` on one line). */
  readonly reason: string;

  constructor(path: string, reason: string) {
    super('INVALID_CONFIG', `Target input is not valid at ${path}: ${reason}`, { path });
    this.name = 'InvalidTargetInputError';
    this.reason = reason;
  }
}
