import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { resolve, isAbsolute } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ReboundError } from '../errors.ts';
import { configSchema, type Config } from './schema.ts';

export const DEFAULT_CONFIG_FILE = 'rebound.yaml';

export interface LoadedConfig {
  readonly config: Config;
  /** The file read, or undefined when running on built-in defaults. */
  readonly source: string | undefined;
}

export interface LoadOptions {
  /** Explicit file (`--config`); must exist. Without it, ./rebound.yaml is used when present. */
  readonly path?: string;
  readonly cwd?: string;
  /** Environment for `${VAR}` interpolation; defaults to process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Reads, interpolates, parses and validates the configuration once; every error names its key path. */
export async function loadConfig(options: LoadOptions = {}): Promise<LoadedConfig> {
  const cwd = options.cwd ?? process.cwd();
  const file = options.path ? resolve(cwd, options.path) : resolve(cwd, DEFAULT_CONFIG_FILE);
  if (!existsSync(file)) {
    if (options.path) {
      throw new ReboundError('INVALID_CONFIG', `config file ${file} does not exist`);
    }
    return { config: withResolvedPaths(parseConfig({}), cwd), source: undefined };
  }
  const text = await readFile(file, 'utf8');
  const raw = parseYaml(text, file, options.env ?? process.env);
  return { config: withResolvedPaths(parseConfig(raw, file), cwd), source: file };
}

/** Validates an already-parsed configuration object (used by tests and `createApp`). */
export function parseConfig(raw: unknown, source = 'configuration'): Config {
  const result = configSchema.safeParse(raw ?? {});
  if (result.success) return result.data;
  throw new ReboundError('INVALID_CONFIG', `${source} is invalid:\n` + formatIssues(result.error), {
    details: result.error.issues.map((i) => ({ path: keyPath(i.path), message: i.message })),
  });
}

/** Replaces `${NAME}` (and `${NAME:-default}`) in the text; an unset variable without default is an error. */
export function interpolateEnv(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  file: string,
): string {
  const missing: string[] = [];
  const out = text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (match, name?: string, def?: string) => {
      if (match === '$$') return '$';
      const value = env[name!];
      if (value !== undefined && value !== '') return value;
      if (def !== undefined) return def;
      missing.push(name!);
      return '';
    },
  );
  if (missing.length > 0) {
    throw new ReboundError(
      'INVALID_CONFIG',
      `${file} refers to unset environment variable(s) ${[...new Set(missing)].join(', ')}; ` +
        'export them or give a default with ${NAME:-default}',
    );
  }
  return out;
}

function parseYaml(text: string, file: string, env: Readonly<Record<string, string | undefined>>): unknown {
  // Interpolate after parsing, inside scalars only, so a secret can never break the YAML structure.
  // Without the library's code frame: the quoted lines of the file could hold a secret, and this message
  // reaches the log (a reload on SIGHUP) and the reload API's answer.
  const doc = parseDocument(text, { prettyErrors: false });
  const error = doc.errors[0];
  if (error) {
    const before = text.slice(0, error.pos[0]).split('\n');
    const where = `line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
    throw new ReboundError('INVALID_CONFIG', `${file} is not valid YAML at ${where}: ${error.message}`);
  }
  return interpolateValues(doc.toJS(), env, file);
}

function interpolateValues(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  file: string,
): unknown {
  if (typeof value === 'string') return interpolateEnv(value, env, file);
  if (Array.isArray(value)) return value.map((v) => interpolateValues(v, env, file));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateValues(v, env, file)]));
  }
  return value;
}

function withResolvedPaths(config: Config, cwd: string): Config {
  const dataDir = isAbsolute(config.dataDir) ? config.dataDir : resolve(cwd, config.dataDir);
  return { ...config, dataDir };
}

function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const at = keyPath(issue.path) || '(top level)';
      if (issue.code === 'unrecognized_keys') {
        return `  - ${at}: unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      }
      return `  - ${at}: ${issue.message}`;
    })
    .join('\n');
}

function keyPath(path: readonly PropertyKey[]): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
    .join('.')
    .replace(/\.\[/g, '[');
}

/** The configuration schema as JSON Schema (draft 2020-12), for editors. */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' });
}
