/**
 * Parsers for flag and argument values, checked before anything is sent: a bad value is a usage error (exit 2)
 * naming the flag, not a server message naming a query or body field. Used as commander argParsers, whose
 * InvalidArgumentError commander reports as "option '--limit <n>' argument '-1' is invalid. …".
 */
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import { describeError } from '../errors.ts';
import { findUnacceptable, mayBeUnacceptable } from '../http/json-body.ts';
import { isoTime, MAX_LIMIT } from '../http/query.ts';
import { formatPath } from '../ingest/alertmanager/payload.ts';

/**
 * Reads the JSON file a flag or argument names (`what`, e.g. `--pattern`): a missing or malformed file, or one
 * holding a number too large for a double, is a usage error (exit 2) naming the flag and the file.
 */
export async function readJsonFile(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new InvalidArgumentError(`${what}: cannot read ${file}: ${describeError(err)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    throw new InvalidArgumentError(`${what}: ${file} is not valid JSON: ${describeError(err)}`);
  }
  // What is read is sent or walked later, recursively: JSON.parse takes nesting that JSON.stringify cannot.
  try {
    JSON.stringify(value);
  } catch {
    throw new InvalidArgumentError(`${what}: ${file} nests too deeply to be processed`);
  }
  refuseNonFinite(text, value, `${what}: ${file}`);
  return value;
}

/**
 * Refuses JSON a user gave (`text`, parsed as `value`) that holds a number too large for a double, as a usage
 * error naming `where` (the flag, and its file) and the number's path: JSON.parse makes `1e999` Infinity, which
 * would be sent, stored or run as null, silently. The API refuses such a body with a 400 for the same reason.
 */
export function refuseNonFinite(text: string, value: unknown, where: string): void {
  const found = mayBeUnacceptable(text) ? findUnacceptable(value, { numbersOnly: true }) : undefined;
  if (found === undefined) return;
  const at = formatPath(found.path);
  throw new InvalidArgumentError(`${where}: ${at === '' ? '' : `${at}: `}${found.problem}`);
}

/** Parses an ISO-8601 date and time (2026-01-31T18:00:00Z) and returns it normalised to UTC. */
export function parseIsoTime(text: string): string {
  // The server's own rule: with an offset, and a date that exists (Date.parse would roll 02-30 into March).
  if (!isoTime.safeParse(text).success) {
    throw new InvalidArgumentError(
      `"${text}" is not an ISO-8601 time with an offset, e.g. 2026-01-31T18:00:00Z`,
    );
  }
  return new Date(text).toISOString();
}

/** Refuses a range whose end is not after its start, naming both flags (times already parsed). */
export function assertOrdered(from: { flag: string; at?: string }, to: { flag: string; at?: string }): void {
  if (from.at !== undefined && to.at !== undefined && Date.parse(from.at) >= Date.parse(to.at))
    throw new InvalidArgumentError(`${to.flag} (${to.at}) must be after ${from.flag} (${from.at})`);
}

/** Parses a page size: a whole number from 1 to MAX_LIMIT. */
export function parseLimit(text: string): number {
  const n = wholeNumber(text);
  if (n === undefined || n < 1 || n > MAX_LIMIT)
    throw new InvalidArgumentError(`expected a whole number from 1 to ${MAX_LIMIT}`);
  return n;
}

/** Parses a positive whole number (ids); `what` names it in the message. */
export function parsePositiveInteger(text: string, what: string): number {
  const n = wholeNumber(text);
  if (n === undefined || n < 1 || !Number.isSafeInteger(n))
    throw new InvalidArgumentError(`${what} "${text}" is not a positive whole number`);
  return n;
}

/** A comma-separated list whose every item is one of `allowed`, e.g. `--status open,escalated`. */
export function commaListOf(allowed: readonly string[]): (text: string) => string {
  return (text) => {
    const items = text.split(',').map((s) => s.trim());
    const bad = items.find((s) => !allowed.includes(s));
    if (bad !== undefined)
      throw new InvalidArgumentError(`unknown value "${bad}"; one or more of ${allowed.join(', ')}`);
    return items.join(',');
  };
}

function wholeNumber(text: string): number | undefined {
  return /^\s*\d+\s*$/.test(text) ? Number(text) : undefined;
}
