import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/app.ts';
import { CLI, REPO, runCli } from '../support/process.ts';

// Nothing here needs a server: every mistake is caught before a request (this URL would refuse it anyway).
const env = { REBOUND_URL: 'http://127.0.0.1:1' };
const dir = tempDir('rebound-cli-usage-');
afterAll(() => dir.remove());

function file(name: string, text: string): string {
  const path = join(dir.path, name);
  writeFileSync(path, text);
  return path;
}

describe('rebound CLI usage errors', () => {
  it('exits 2 for a missing or unknown command, 0 for --help', async () => {
    const [none, incidents, config, bogus, helpOk, helpFlag] = await Promise.all([
      runCli([]),
      runCli(['incidents']),
      runCli(['config']),
      runCli(['help', 'bogus']),
      runCli(['help', 'incidents', 'list']),
      runCli(['incidents', '--help']),
    ]);
    for (const r of [none, incidents, config]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^Usage: rebound/);
    }
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain("error: unknown command 'bogus'");
    expect(bogus.stdout).toBe('');
    expect(helpOk.code).toBe(0);
    expect(helpOk.stdout).toMatch(/^Usage: rebound incidents list/);
    expect(helpFlag.code).toBe(0);
  });

  it('checks flag values itself, naming the flag, with exit code 2', { timeout: 60_000 }, async () => {
    const cases: [string[], RegExp][] = [
      [
        ['incidents', 'list', '--since', 'yesterday'],
        /--since <time>' argument 'yesterday' is invalid.*ISO-8601/,
      ],
      [['incidents', 'list', '--limit', '-1'], /--limit <n>' argument '-1' is invalid/],
      [['incidents', 'list', '--limit', 'abc'], /--limit <n>' argument 'abc' is invalid/],
      [['incidents', 'list', '--status', 'open,bogus'], /--status <list>' argument 'open,bogus' is invalid/],
      [['dlq', 'redrive', 'abc'], /dead-letter id "abc" is not a positive whole number/],
      [['dlq', 'delete'], /^error: name the dead letters to delete: ids, --target or --since \(or --all\)/],
      [['dlq', 'delete', '7', '--all'], /^error: ids name the dead letters on their own/],
      [['replay', '--from', 'yesterday', '--to', 'now'], /--from <time>' argument 'yesterday' is invalid/],
      [['executions', 'list', '--status', 'bogus'], /--status <status>' argument 'bogus' is invalid/],
      [['approvals', 'list', '--limit', '-1'], /--limit <n>' argument '-1' is invalid/],
      [
        ['approvals', 'snooze', 'apr-1', '--seconds', '0'],
        /^error: option '--seconds <n>' argument '0' is invalid/,
      ],
      [
        ['task', 'success', 'token', '--task-output', 'notjson'],
        /^error: --task-output is not JSON \(.*\); e\.g\. --task-output/,
      ],
      // `-o json` is the output format of other commands; here it is refused, not sent as the task's output.
      [['task', 'success', 'token', '-o', 'json'], /^error: unknown option '-o'/],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(args, { env })));
    runs.forEach((r, i) => {
      expect({ args: cases[i]![0], code: r.code }).toEqual({ args: cases[i]![0], code: 2 });
      expect(r.stderr).toMatch(cases[i]![1]);
      expect(r.stderr).not.toMatch(/query\.|body\.|cannot reach/);
    });
  });

  it('replay --pattern: names the file for a missing, malformed or non-object pattern', async () => {
    const replay = ['replay', '--from', '2026-01-01T00:00:00Z', '--to', '2026-01-02T00:00:00Z', '--pattern'];
    const missing = join(dir.path, 'missing.json');
    const malformed = file('malformed.json', '{"source": [');
    const nulls = file('null.json', 'null');
    const zero = file('zero.json', '0');
    const runs = await Promise.all(
      [missing, malformed, nulls, zero].map((f) => runCli([...replay, f], { env })),
    );
    for (const r of runs) expect(r.code).toBe(2);
    expect(runs[0]!.stderr).toContain(`--pattern: cannot read ${missing}`);
    expect(runs[1]!.stderr).toContain(`--pattern: ${malformed} is not valid JSON`);
    expect(runs[2]!.stderr).toContain(`--pattern: ${nulls} holds null; an event pattern is a JSON object`);
    expect(runs[3]!.stderr).toContain(`--pattern: ${zero} holds 0`);
  });

  it('refuses a number too large for a double in a JSON file or flag, naming it and its path, with exit code 2', async () => {
    // JSON.parse reads 1e999 as Infinity, which JSON.stringify sends as null: the value would change silently.
    const inf = file('inf.json', '{"x":1e999,"y":1}');
    const deep = file(
      'deep.json',
      '[{"Source":"s","DetailType":"d","Detail":"{}","Resources":[1, -2E+400]}]',
    );
    const definition = file('def-inf.json', '{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}');
    const problem = 'the number is too large for a double (JSON numbers must be finite)';
    const cases: [string[], string][] = [
      [
        ['executions', 'start', 'unknown-alert', '--input', inf, '--name', 't'],
        `--input: ${inf}: x: ${problem}`,
      ],
      [['events', 'put', '--entries', deep], `--entries: ${deep}: [0].Resources[1]: ${problem}`],
      [['workflow', 'run', '--definition', definition, '--input', inf], `--input: ${inf}: x: ${problem}`],
      [
        ['replay', '--from', '2026-01-01T00:00:00Z', '--to', '2026-01-02T00:00:00Z', '--pattern', inf],
        `--pattern: ${inf}: x: ${problem}`,
      ],
      [['task', 'success', 'token', '--task-output', '1e999'], `--task-output: ${problem}`],
      [
        ['task', 'success', 'token', '--task-output', '{"a":[0,{"b":1e999}]}'],
        `--task-output: a[1].b: ${problem}`,
      ],
      [
        ['action', 'run', 'k8s.scale', '--params', '{"replicas":1e999}', '--kubeconfig', '/dev/null'],
        `--params: replicas: ${problem}`,
      ],
    ];
    const runs = await Promise.all(cases.map(([args]) => runCli(args, { env })));
    runs.forEach((r, i) => {
      expect({ args: cases[i]![0], code: r.code, stderr: r.stderr }).toEqual({
        args: cases[i]![0],
        code: 2,
        stderr: `error: ${cases[i]![1]}\n`,
      });
      expect(r.stdout).toBe('');
    });
  });

  it('workflow run: names the --task-handlers file that cannot be used; bad files exit 2', async () => {
    const definition = file('def.json', '{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}');
    const syntax = file('syntax.mjs', 'const a = 1;\nconst b = ;\nexport default {};\n');
    const throws = file(
      'throws.mjs',
      'const a = 1;\nthrow new Error("boom at import");\nexport default {};\n',
    );
    const json = file('handlers.json', '{"a": 1}');
    const missing = join(dir.path, 'missing.mjs');
    const run = (...args: string[]) => runCli(['workflow', 'run', '--definition', definition, ...args]);
    const [noModule, badSyntax, importThrow, jsonFile, noDefinition, badInput] = await Promise.all([
      run('--task-handlers', missing),
      run('--task-handlers', syntax),
      run('--task-handlers', throws),
      run('--task-handlers', json),
      runCli(['workflow', 'run', '--definition', join(dir.path, 'nope.json')]),
      run('--input', syntax),
    ]);
    expect(noModule.stderr).toContain(`--task-handlers: cannot read ${missing}`);
    expect(badSyntax.stderr).toContain(`--task-handlers: cannot load ${syntax} (line 2): Unexpected token`);
    expect(importThrow.stderr).toContain(`--task-handlers: cannot load ${throws} (line 2): boom at import`);
    expect(jsonFile.stderr).toContain(`--task-handlers ${json} is a JSON file`);
    expect(noDefinition.stderr).toContain(`--definition: cannot read ${join(dir.path, 'nope.json')}`);
    expect(badInput.stderr).toContain(`--input: ${syntax} is not valid JSON`);
    for (const r of [noModule, badSyntax, importThrow, jsonFile, noDefinition, badInput]) {
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
    }
  });

  it('task --help describes success, failure and heartbeat', async () => {
    const help = await runCli(['task', '--help']);
    // A description on the command's own line (without one, the next command's name follows a line break).
    expect(help.stdout).toMatch(/success \[options\] <token> +complete/);
    expect(help.stdout).toMatch(/failure \[options\] <token> +fail/);
    expect(help.stdout).toMatch(/heartbeat <token> +report/);
  });

  it('exits quietly when whoever reads its output closes the pipe (rebound … | head -1)', async () => {
    const child = spawn(process.execPath, [CLI, 'action', 'list'], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Closed before the CLI writes a byte: its first write fails with EPIPE, deterministically.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
