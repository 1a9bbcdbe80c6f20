/** EventBridge target input: Input (constant), InputPath, InputTransformer; compiled when rules load. */
export { InvalidTargetInputError } from './errors.ts';
export {
  compileTargetInput,
  MAX_VARIABLES,
  targetInputSchema,
  type CompiledTargetInput,
  type TargetInput,
  type TargetInputSpec,
  type TransformContext,
} from './input.ts';
export { compileEventPath, type EventPath } from './jsonpath.ts';
export { RESERVED } from './template.ts';
