import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The package version, reported by `rebound --version`, /v1/info and the OpenAPI document. */
export const VERSION: string = (require('../package.json') as { version: string }).version;
