// asl-validator ships no types; this is the part of its API Rebound uses.
declare module 'asl-validator' {
  interface AslValidatorError {
    readonly 'Error code': string;
    readonly Message: string;
    readonly schemaError?: { readonly instancePath?: string; readonly message?: string };
  }
  interface AslValidatorOptions {
    readonly checkPaths?: boolean;
    readonly checkArn?: boolean;
  }
  function validator(
    definition: unknown,
    options?: AslValidatorOptions,
  ): { isValid: boolean; errors: AslValidatorError[] };
  export default validator;
}
