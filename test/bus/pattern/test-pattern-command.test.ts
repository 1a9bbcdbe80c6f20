import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  evaluateBatchLine,
  evaluatePattern,
  runBatch,
  runTestPattern,
} from '../../../src/cli/commands/test-pattern.ts';

const PATTERN = { source: ['rebound.alertmanager'], detail: { labels: { severity: ['critical'] } } };
const EVENT = { source: 'rebound.alertmanager', detail: { labels: { severity: 'critical' } } };

describe('evaluatePattern', () => {
  it('says match, nomatch or invalid', () => {
    expect(evaluatePattern(PATTERN, EVENT)).toEqual({ result: 'match' });
    expect(evaluatePattern(PATTERN, { ...EVENT, source: 'x' })).toEqual({ result: 'nomatch' });
    const invalid = evaluatePattern({ source: 'x' }, EVENT);
    expect(invalid.result).toBe('invalid');
    expect(invalid.error).toContain('at source');
  });

  it('takes pattern and event as JSON text too, like TestEventPattern', () => {
    expect(evaluatePattern(JSON.stringify(PATTERN), JSON.stringify(EVENT))).toEqual({ result: 'match' });
    expect(evaluatePattern(PATTERN, '{not json').result).toBe('invalid');
    expect(evaluatePattern(PATTERN, [EVENT])).toEqual({
      result: 'invalid',
      error: 'the event must be a JSON object',
    });
  });
});

describe('batch lines', () => {
  it('echo the id and never throw on malformed input', () => {
    expect(evaluateBatchLine(JSON.stringify({ id: 'a', pattern: PATTERN, event: EVENT }))).toEqual({
      id: 'a',
      result: 'match',
    });
    expect(evaluateBatchLine(JSON.stringify({ id: 7, pattern: PATTERN, event: {} }))).toEqual({
      id: 7,
      result: 'nomatch',
    });
    expect(evaluateBatchLine('{"id": "x", "pattern": ')).toMatchObject({ id: null, result: 'invalid' });
    expect(evaluateBatchLine('[1]')).toMatchObject({ id: null, result: 'invalid' });
    expect(evaluateBatchLine('{"id": "p"}')).toEqual({
      id: 'p',
      result: 'invalid',
      error: 'the line has no "pattern" field',
    });
    expect(evaluateBatchLine(JSON.stringify({ id: 'q', pattern: { a: [] }, event: EVENT }))).toMatchObject({
      id: 'q',
      result: 'invalid',
      error: expect.stringContaining('empty arrays') as unknown,
    });
  });

  it('writes one line per case, in order, skipping blank lines', async () => {
    const input = [
      JSON.stringify({ id: 1, pattern: PATTERN, event: EVENT }),
      '',
      'garbage',
      JSON.stringify({ id: 3, pattern: PATTERN, event: {} }),
    ];
    const out: string[] = [];
    const cases = await runBatch(Readable.from(input), (line) => out.push(line));
    expect(cases).toBe(3);
    expect(out.map((l) => JSON.parse(l) as { result: string }).map((r) => r.result)).toEqual([
      'match',
      'invalid',
      'nomatch',
    ]);
    expect(out.every((l) => l.endsWith('\n'))).toBe(true);
  });
});

describe('the command', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rebound-test-pattern-'));
    await writeFile(join(dir, 'p.json'), JSON.stringify(PATTERN));
    await writeFile(join(dir, 'bad.json'), JSON.stringify({ source: [{ numeric: ['<', 'x'] }] }));
    await writeFile(join(dir, 'e.json'), JSON.stringify(EVENT));
    await writeFile(join(dir, 'other.json'), JSON.stringify({ source: 'x' }));
    await writeFile(
      join(dir, 'cases.jsonl'),
      [
        JSON.stringify({ id: 'c1', pattern: PATTERN, event: EVENT }),
        JSON.stringify({ id: 'c2', pattern: PATTERN, event: { source: 'x' } }),
        JSON.stringify({ id: 'c3', pattern: { source: 'x' }, event: EVENT }),
        '{broken',
      ].join('\n') + '\n',
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('returns usage errors for missing or conflicting options', async () => {
    expect(await runTestPattern({ pattern: 'p.json' })).toBe(2);
    expect(await runTestPattern({ batch: 'x', event: 'e.json' })).toBe(2);
    expect(await runTestPattern({ pattern: join(dir, 'missing.json'), event: join(dir, 'e.json') })).toBe(2);
  });

  it('answers a pattern or event nested past what can be processed as a usage error (2), not as no match', async () => {
    const depth = 100_000;
    await writeFile(join(dir, 'deep.json'), '{"a":'.repeat(depth) + '[1]' + '}'.repeat(depth));
    expect(await runTestPattern({ pattern: join(dir, 'deep.json'), event: join(dir, 'e.json') })).toBe(2);
    expect(await runTestPattern({ pattern: join(dir, 'p.json'), event: join(dir, 'deep.json') })).toBe(2);
  });

  it('runs as a process: match exits 0, no match 1, invalid 2; batch writes JSON lines', async () => {
    const p = (name: string) => join(dir, name);
    // Spawned together: each child pays the TypeScript loader's start-up, so run them side by side.
    const [matched, unmatched, invalid, batch] = await Promise.all([
      cli(['--pattern', p('p.json'), '--event', p('e.json')]),
      cli(['--pattern', p('p.json'), '--event', p('other.json')]),
      cli(['--pattern', p('bad.json'), '--event', p('e.json')]),
      cli(['--batch', p('cases.jsonl')]),
    ]);
    expect(matched).toEqual({ code: 0, out: 'match\n', err: '' });
    expect(unmatched).toEqual({ code: 1, out: 'no match\n', err: '' });
    expect(invalid.code).toBe(2);
    expect(invalid.err).toContain('Event pattern is not valid at source[0].numeric[1]');
    expect(batch.code).toBe(0);
    const results = batch.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: unknown; result: string });
    expect(results.map((r) => [r.id, r.result])).toEqual([
      ['c1', 'match'],
      ['c2', 'nomatch'],
      ['c3', 'invalid'],
      [null, 'invalid'],
    ]);
  });
});

function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const script = join(import.meta.dirname, 'test-pattern-cli.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}
