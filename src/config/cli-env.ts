/** Environment the CLI honours as defaults for its global options (flags win). */
export interface CliEnvironment {
  readonly url: string | undefined;
  readonly token: string | undefined;
}

export function readCliEnvironment(): CliEnvironment {
  return { url: process.env['REBOUND_URL'], token: process.env['REBOUND_TOKEN'] };
}
