import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import aslValidator from 'asl-validator';
import { isIntrinsicCall } from './intrinsics.ts';
import { isJsonataExpression } from './jsonata.ts';
import { isJsonObject } from './types.ts';

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
/**
 * Bumped whenever what Rebound hands the validator (see withoutFalseAlarms) or makes of its answer (see
 * issueOf) changes: older verdicts lapse.
 */
const REVISION = 5;
const CACHE_FILE = join(
  dirname(fileURLToPath(import.meta.url)),
  '../../node_modules/.cache/rebound',
  `asl-validator-${VERSION}-r${REVISION}.json`,
);
const MAX_ENTRIES = 2000;

let verdicts: Map<string, SchemaIssue[]> | undefined;

export function schemaIssues(definition: object): SchemaIssue[] {
  const text = JSON.stringify(definition);
  const key = createHash('sha256').update(text).digest('base64url');
  const known = loaded().get(key);
  if (known) return known;
  // asl-validator writes default QueryLanguage fields into what it is given: hand it a copy.
  const copy = JSON.parse(text) as Record<string, unknown>;
  withoutFalseAlarms(copy, 'JSONPath');
  withoutEscapedBackslashes(copy);
  const result = aslValidator(copy, { checkArn: false, checkPaths: true });
  const issues = result.errors.map((e) => issueOf(e, definition));
  remember(key, issues);
  return issues;
}

/** What a field of a state must hold, for asl-validator's "must match exactly one schema in oneOf". */
const EXPECTED: Readonly<Record<string, string>> = {
  Seconds: 'a number of seconds, 0 or more',
  Timestamp: 'an RFC 3339 timestamp, e.g. 2026-01-31T18:00:00Z',
  TimeoutSeconds: 'a whole number of seconds, 1 or more',
  HeartbeatSeconds: 'a whole number of seconds, 1 or more',
  MaxConcurrency: 'a whole number, 0 or more (0: no limit)',
  ToleratedFailureCount: 'a whole number, 0 or more',
  ToleratedFailurePercentage: 'a number from 0 to 100',
  Items: 'an array',
};

type ValidatorError = ReturnType<typeof aslValidator>['errors'][number];

/** asl-validator's error as an issue at a path like Rebound's own (`States.A.Retry[0].MaxAttempts`). */
function issueOf(error: ValidatorError, definition: object): SchemaIssue {
  const pointer = error.schemaError?.instancePath ?? '';
  const segments = pointer.split('/').slice(1);
  const { path, language } = locate(definition, segments);
  const field = segments.at(-1) ?? '';
  // The path is shown beside the message already; asl-validator repeats it ("/States/A is invalid. …").
  let message = error.Message.replace(/^\S* is invalid\. /, '')
    // asl-validator calls the machine it checks `fsm1`, `fsm2`…: a name the user never gave.
    .replace(/\bState machine fsm\d+\b/g, 'The state machine');
  if (message === 'must match exactly one schema in oneOf' && EXPECTED[field]) {
    // Its schema is "this, or a JSONata expression"; it cannot say which one was meant.
    message = `must be ${EXPECTED[field]}${language === 'JSONata' ? ', or a JSONata expression {% … %}' : ''}`;
  }
  return { path, message: `${message} (${error['Error code']})` };
}

/**
 * Where a JSON pointer's segments lead: the path as Rebound writes it (an array index is `[0]`; a state named
 * `1` stays `.1`), and the query language in force where the last field sits (the innermost `QueryLanguage`
 * on the way).
 */
function locate(definition: object, segments: readonly string[]): { path: string; language: string } {
  let node: unknown = definition;
  let path = '';
  let language = 'JSONPath';
  for (const segment of segments) {
    if (isJsonObject(node) && typeof node['QueryLanguage'] === 'string') language = node['QueryLanguage'];
    path += Array.isArray(node) ? `[${segment}]` : path === '' ? segment : `.${segment}`;
    node = isJsonObject(node) || Array.isArray(node) ? (node as Record<string, unknown>)[segment] : undefined;
  }
  return { path, language };
}

/**
 * asl-validator 4.0.0 refuses some definitions Step Functions runs (checked against executions recorded on
 * AWS): a JSONata `Output` that is a literal other than an object (`null`, `0`, `"text"`, `[]`), on a state or
 * a Choice rule, and, in an `Assign` array under a name of three characters or more, a `null` or a string.
 * In the copy it checks, such values are swapped for ones of the same standing that its schema takes; the
 * definition that runs is not touched, and everything else is still checked.
 */
function withoutFalseAlarms(machine: Record<string, unknown>, inherited: string): void {
  const language = typeof machine['QueryLanguage'] === 'string' ? machine['QueryLanguage'] : inherited;
  const states = machine['States'];
  if (!isJsonObject(states)) return;
  for (const state of Object.values(states)) {
    if (!isJsonObject(state)) continue;
    const own = typeof state['QueryLanguage'] === 'string' ? state['QueryLanguage'] : language;
    if (own === 'JSONata') {
      literalOutput(state);
      if (Array.isArray(state['Choices']))
        for (const rule of state['Choices']) if (isJsonObject(rule)) literalOutput(rule);
    }
    if (isJsonObject(state['Assign']))
      for (const value of Object.values(state['Assign'])) neutralArrays(value);
    for (const branch of Array.isArray(state['Branches']) ? state['Branches'] : [])
      if (isJsonObject(branch)) withoutFalseAlarms(branch, own);
    for (const field of ['ItemProcessor', 'Iterator'])
      if (isJsonObject(state[field])) withoutFalseAlarms(state[field], own);
  }
}

/**
 * asl-validator's grammar for intrinsic calls refuses the escape `\\` (a backslash) in a string argument,
 * which Step Functions accepts; Rebound parses every intrinsic call itself (validate.ts). Each `\\` becomes
 * a plain character in what the validator sees.
 */
function withoutEscapedBackslashes(holder: Record<string, unknown> | unknown[]): void {
  const entries: [string | number, unknown][] = Array.isArray(holder)
    ? holder.map((item, i) => [i, item])
    : Object.entries(holder);
  for (const [key, value] of entries) {
    if (typeof value === 'string') {
      if (isIntrinsicCall(value) && value.includes('\\\\'))
        (holder as Record<string | number, unknown>)[key] = value.replaceAll('\\\\', '_');
    } else if (Array.isArray(value) || isJsonObject(value)) withoutEscapedBackslashes(value);
  }
}

function literalOutput(holder: Record<string, unknown>): void {
  const output = holder['Output'];
  if ('Output' in holder && !isJsonObject(output) && !isJsonataExpression(output)) holder['Output'] = {};
}

function neutralArrays(value: unknown): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      if (item === null || typeof item === 'string') value[i] = 0;
      else neutralArrays(item);
    });
  } else if (isJsonObject(value)) for (const item of Object.values(value)) neutralArrays(item);
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
