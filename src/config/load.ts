import { readFile } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { resolve, isAbsolute, join } from 'node:path';
import { parseDocument, visit, type Document } from 'yaml';
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
  if (statSync(file).isDirectory()) {
    throw new ReboundError(
      'INVALID_CONFIG',
      `${file} is a directory, not a configuration file; give the file, e.g. ${join(file, DEFAULT_CONFIG_FILE)}`,
    );
  }
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new ReboundError(
      'INVALID_CONFIG',
      `cannot read config file ${file} (${err.code ?? err.message}); check that it is readable`,
      { cause: err },
    );
  });
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

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Replaces `${NAME}` (and `${NAME:-default}`) in the text; a variable that is unset or empty, without a
 * default, is an error. `at` (the key path of the value) makes the message say where it is used.
 */
export function interpolateEnv(text: string, env: Env, file: string, at?: string): string {
  const { out, problem } = interpolate(text, env);
  if (problem !== undefined) {
    throw new ReboundError('INVALID_CONFIG', `${file}: ${at ? `${at}: ` : ''}${problem}`, {
      ...(at ? { path: at } : {}),
    });
  }
  return out;
}

function interpolate(text: string, env: Env): { out: string; problem?: string } {
  const unset: string[] = [];
  const empty: string[] = [];
  const out = text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
    (match, name?: string, def?: string) => {
      if (match === '$$') return '$';
      const value = env[name!];
      if (value !== undefined && value !== '') return value;
      if (def !== undefined) return def;
      (value === undefined ? unset : empty).push(name!);
      return '';
    },
  );
  const names = (list: string[]) => [...new Set(list)].join(', ');
  const problems = [
    ...(unset.length > 0 ? [`unset environment variable(s) ${names(unset)}`] : []),
    ...(empty.length > 0 ? [`environment variable(s) ${names(empty)}, which are set but empty`] : []),
  ];
  if (problems.length === 0) return { out };
  const example = unset[0] ?? empty[0]!;
  return {
    out,
    problem:
      `uses ${problems.join(' and ')}; export a non-empty value or give a default ` +
      `with \${${example}:-default}`,
  };
}

function parseYaml(text: string, file: string, env: Env): unknown {
  // Interpolate after parsing, inside scalars only, so a secret can never break the YAML structure.
  // Without the library's code frame: the quoted lines of the file could hold a secret, and this message
  // reaches the log (a reload on SIGHUP) and the reload API's answer.
  const doc = parseDocument(text, { prettyErrors: false });
  const error = doc.errors[0];
  if (error) {
    const where = lineAndColumn(text, error.pos[0]);
    if (error.code === 'MULTIPLE_DOCS') {
      throw new ReboundError(
        'INVALID_CONFIG',
        `${file} holds more than one YAML document (a "---" separator at ${where}); ` +
          'the configuration is one document: remove the separator and merge the sections into one',
      );
    }
    throw new ReboundError('INVALID_CONFIG', `${file} is not valid YAML at ${where}: ${error.message}`);
  }
  const recursive = recursiveAlias(doc);
  if (recursive !== undefined) {
    throw new ReboundError(
      'INVALID_CONFIG',
      `${file} has a recursive alias at ${lineAndColumn(text, recursive.offset)}: *${recursive.name} refers to ` +
        `a node that contains it; refer to the anchor only from outside the node it names`,
    );
  }
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (err) {
    // The yaml library refuses alias expansions past its limit (a "billion laughs" file) with a ReferenceError.
    throw new ReboundError(
      'INVALID_CONFIG',
      `${file} cannot be read: its aliases (*name) expand to too many values (${(err as Error).message}); ` +
        'write the values out or use fewer aliases',
      { cause: err },
    );
  }
  const problems: string[] = [];
  const out = interpolateValues(value, env, [], problems);
  if (problems.length > 0) {
    throw new ReboundError(
      'INVALID_CONFIG',
      `${file} uses environment variables that have no value:\n` + problems.map((p) => `  - ${p}`).join('\n'),
    );
  }
  return out;
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
}

/** The first alias that names one of its own ancestors (it would expand forever), with where it is. */
function recursiveAlias(doc: Document): { name: string; offset: number } | undefined {
  let found: { name: string; offset: number } | undefined;
  visit(doc, {
    Alias(_key, node, path) {
      const target = node.resolve(doc);
      if (target !== undefined && path.includes(target)) {
        found = { name: node.source, offset: node.range?.[0] ?? 0 };
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

function interpolateValues(
  value: unknown,
  env: Env,
  path: readonly (string | number)[],
  problems: string[],
): unknown {
  if (typeof value === 'string') {
    const { out, problem } = interpolate(value, env);
    if (problem !== undefined) problems.push(`${keyPath(path) || '(top level)'}: ${problem}`);
    return out;
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateValues(v, env, [...path, i], problems));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolateValues(v, env, [...path, k], problems)]),
    );
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
