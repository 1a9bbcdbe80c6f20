import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import aslValidator from 'asl-validator';

/** One problem asl-validator found, at a dotted path such as `States.Restart.Resource`. */
export interface SchemaIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * asl-validator compiles its JSON schemas afresh on every call (Ajv code generation: 0.3–1 s per definition),
 * and Rebound checks the same shipped runbooks at every start. Verdicts are therefore kept in memory and on
 * disk, keyed by the SHA-256 of the definition text and the validator's version, so a definition is compiled
 * against the schema once per machine rather than once per process. The disk copy is a cache: when it
 * cannot be read or written the check simply runs.
 */
const VERSION = validatorVersion();
const CACHE_FILE = join(
  dirname(fileURLToPath(import.meta.url)),
  '../../node_modules/.cache/rebound',
  `asl-validator-${VERSION}.json`,
);
const MAX_ENTRIES = 2000;

let verdicts: Map<string, SchemaIssue[]> | undefined;

export function schemaIssues(definition: object): SchemaIssue[] {
  const text = JSON.stringify(definition);
  const key = createHash('sha256').update(text).digest('base64url');
  const known = loaded().get(key);
  if (known) return known;
  // asl-validator writes default QueryLanguage fields into what it is given: hand it a copy.
  const result = aslValidator(JSON.parse(text), { checkArn: false, checkPaths: true });
  const issues = result.errors.map((e) => ({
    path: e.schemaError?.instancePath?.replace(/^\//, '').replace(/\//g, '.') ?? '',
    // asl-validator calls the machine it checks `fsm1`, `fsm2`…: a name the user never gave.
    message: `${e.Message.replace(/\bState machine fsm\d+\b/g, 'The state machine')} (${e['Error code']})`,
  }));
  remember(key, issues);
  return issues;
}

function loaded(): Map<string, SchemaIssue[]> {
  if (verdicts) return verdicts;
  verdicts = new Map();
  try {
    const stored = JSON.parse(readFileSync(CACHE_FILE, 'utf8')) as Record<string, SchemaIssue[]>;
    for (const [key, issues] of Object.entries(stored)) if (Array.isArray(issues)) verdicts.set(key, issues);
  } catch {
    // No cache yet, or an unreadable one: it is rebuilt as definitions are checked.
  }
  return verdicts;
}

function remember(key: string, issues: SchemaIssue[]): void {
  const map = loaded();
  if (map.size >= MAX_ENTRIES) map.clear();
  map.set(key, issues);
  try {
    mkdirSync(dirname(CACHE_FILE), { recursive: true });
    // Write beside and rename, so a concurrent reader (another test worker, a second server) never sees half.
    const partial = `${CACHE_FILE}.${process.pid}.tmp`;
    writeFileSync(partial, JSON.stringify(Object.fromEntries(map)));
    renameSync(partial, CACHE_FILE);
  } catch {
    // A read-only install: keep the in-memory verdict only.
  }
}

function validatorVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    return (require('asl-validator/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
