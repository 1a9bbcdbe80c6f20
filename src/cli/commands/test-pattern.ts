import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import {
  compilePattern,
  isInvalidEventPatternError,
  matches,
  type CompiledPattern,
} from '../../bus/pattern/index.ts';
import { describeError } from '../../errors.ts';
import { readJsonFile } from '../args.ts';
import { EXIT } from '../output.ts';

/** The verdict for one (pattern, event) pair; `error` explains an `invalid` verdict. */
export interface PatternVerdict {
  readonly result: 'match' | 'nomatch' | 'invalid';
  readonly error?: string;
}

/** One output line of `--batch`: a stable contract for conformance suites. */
export interface BatchResult extends PatternVerdict {
  readonly id: unknown;
}

/**
 * Tests an event against a pattern. Either may be given parsed or as JSON text, as AWS TestEventPattern
 * takes them; an invalid pattern or unparseable event is a verdict, never an exception.
 */
export function evaluatePattern(pattern: unknown, event: unknown): PatternVerdict {
  let compiled: CompiledPattern;
  try {
    compiled = compilePattern(pattern);
  } catch (err) {
    if (isInvalidEventPatternError(err)) return { result: 'invalid', error: err.message };
    throw err;
  }
  let parsedEvent = event;
  if (typeof event === 'string') {
    try {
      parsedEvent = JSON.parse(event) as unknown;
    } catch (err) {
      return { result: 'invalid', error: `the event is not valid JSON (${describeError(err)})` };
    }
  }
  if (typeof parsedEvent !== 'object' || parsedEvent === null || Array.isArray(parsedEvent)) {
    return { result: 'invalid', error: 'the event must be a JSON object' };
  }
  return { result: matches(compiled, parsedEvent) ? 'match' : 'nomatch' };
}

/** Evaluates one `--batch` line `{"id", "pattern", "event"}`; a malformed line yields `invalid`, not a throw. */
export function evaluateBatchLine(line: string): BatchResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line) as unknown;
  } catch (err) {
    return { id: null, result: 'invalid', error: `the line is not valid JSON (${describeError(err)})` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return {
      id: null,
      result: 'invalid',
      error: 'each line must be a JSON object {"id", "pattern", "event"}',
    };
  }
  const record = parsed as Record<string, unknown>;
  const id = record['id'] ?? null;
  for (const field of ['pattern', 'event']) {
    if (!(field in record)) return { id, result: 'invalid', error: `the line has no "${field}" field` };
  }
  return { id, ...evaluatePattern(record['pattern'], record['event']) };
}

/** Runs a batch: one output line per non-blank input line, in order. Returns how many cases ran. */
export async function runBatch(lines: AsyncIterable<string>, write: (line: string) => void): Promise<number> {
  let cases = 0;
  for await (const line of lines) {
    if (line.trim() === '') continue;
    write(JSON.stringify(evaluateBatchLine(line)) + '\n');
    cases++;
  }
  return cases;
}

interface TestPatternOptions {
  readonly pattern?: string;
  readonly event?: string;
  readonly batch?: string;
}

/** `rebound test-pattern`: match an event against an EventBridge pattern offline, or run a batch of cases. */
export function testPatternCommand(): Command {
  return new Command('test-pattern')
    .description(
      'test an EventBridge event pattern against an event: prints "match" (exit 0), "no match" (exit 1) ' +
        'or why the pattern is invalid (exit 2); --batch runs JSON lines {"id","pattern","event"}',
    )
    .option('--pattern <file>', 'event pattern JSON file')
    .option('--event <file>', 'event JSON file')
    .option(
      '--batch <file>',
      'JSON lines of {"id","pattern","event"} ("-" for stdin); writes one result line each',
    )
    .action(async (options: TestPatternOptions) => {
      process.exitCode = await runTestPattern(options);
    });
}

/** The command's work, returning the exit code (exported so it can be tested without a process). */
export async function runTestPattern(options: TestPatternOptions): Promise<number> {
  if (options.batch !== undefined) {
    if (options.pattern !== undefined || options.event !== undefined) {
      return usage('--batch cannot be combined with --pattern or --event');
    }
    return runBatchFile(options.batch);
  }
  if (options.pattern === undefined || options.event === undefined) {
    return usage('give both --pattern <file> and --event <file>, or --batch <file>');
  }
  let pattern: unknown;
  let event: unknown;
  try {
    pattern = await readJsonFile(options.pattern, '--pattern');
    event = await readJsonFile(options.event, '--event');
  } catch (err) {
    return usage(describeError(err));
  }
  const verdict = evaluatePattern(pattern, event);
  if (verdict.result === 'invalid') return usage(verdict.error ?? 'invalid');
  process.stdout.write(verdict.result === 'match' ? 'match\n' : 'no match\n');
  return verdict.result === 'match' ? EXIT.OK : EXIT.FAILURE;
}

async function runBatchFile(file: string): Promise<number> {
  const input = file === '-' ? process.stdin : createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  try {
    await runBatch(lines, (line) => process.stdout.write(line));
    return EXIT.OK;
  } catch (err) {
    return usage(`cannot read ${file}: ${describeError(err)}`);
  }
}

function usage(message: string): number {
  process.stderr.write(`error: ${message}\n`);
  return EXIT.USAGE;
}
