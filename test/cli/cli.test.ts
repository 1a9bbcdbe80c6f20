import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/app.ts';
import { REPO, runCli, serve, type Served } from '../support/process.ts';

const dir = tempDir('rebound-cli-');
let server: Served;

beforeAll(async () => {
  server = await serve(['--data-dir', dir.path]);
  const body = readFileSync(join(REPO, 'examples', 'alertmanager-firing.json'));
  const res = await fetch(`${server.url}/v1/webhooks/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  expect(res.status).toBe(200);
}, 60_000);
afterAll(async () => {
  await server?.kill();
  dir.remove();
});

describe('rebound reload', () => {
  it('says what took effect and names what needs a restart', { timeout: 60_000 }, async () => {
    const own = tempDir('rebound-reload-');
    const file = join(own.path, 'rebound.yaml');
    writeFileSync(file, 'logging: { level: warn }\n');
    const running = await serve(['--config', file, '--data-dir', join(own.path, 'data')]);
    try {
      const env = { REBOUND_URL: running.url };
      const same = await runCli(['reload'], { env });
      expect(same).toMatchObject({
        code: 0,
        stdout: expect.stringMatching(/^reloaded: \d+ rule\(s\) in force\n$/),
      });
      writeFileSync(file, 'logging: { level: warn }\nserver: { bodyLimitBytes: 1024 }\n');
      const changed = await runCli(['reload'], { env });
      expect(changed.code).toBe(0);
      expect(changed.stdout).toContain(
        'not applied until a restart (read only at start): server.bodyLimitBytes',
      );
    } finally {
      await running.kill();
      own.remove();
    }
  });
});

describe('rebound CLI', () => {
  it('lists, shows, acknowledges and resolves incidents through the API', { timeout: 60_000 }, async () => {
    const env = { REBOUND_URL: server.url };
    let list = await runCli(['incidents', 'list', '-o', 'json'], { env });
    for (let i = 0; i < 50 && JSON.parse(list.stdout).items.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      list = await runCli(['incidents', 'list', '-o', 'json'], { env });
    }
    expect(list.code).toBe(0);
    const id = JSON.parse(list.stdout).items[0].id as string;

    const table = await runCli(['incidents', 'list'], { env });
    expect(table.stdout).toMatch(/^ID\s+STATUS\s+SEVERITY/);
    expect(table.stdout).toContain(id);

    const show = await runCli(['--url', server.url, 'incidents', 'show', id]);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('TIMELINE');
    expect(show.stdout).toContain('incident.opened');

    const ack = await runCli(['incidents', 'ack', id, '--comment', 'on it'], { env });
    expect(ack).toMatchObject({ code: 0 });
    expect(ack.stdout).toContain('acknowledged');
    const resolve = await runCli(['incidents', 'resolve', id, '-o', 'json'], { env });
    expect(JSON.parse(resolve.stdout).incident.status).toBe('resolved');

    const illegal = await runCli(['incidents', 'ack', id], { env });
    expect(illegal.code).toBe(1);
    expect(illegal.stderr).toMatch(/cannot go from resolved to acknowledged.*ILLEGAL_TRANSITION/);
    const missing = await runCli(['incidents', 'show', 'inc_missing'], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/NOT_FOUND/);
  });

  it(
    'publishes events from a file, lists and shows them, and lists the rules',
    { timeout: 60_000 },
    async () => {
      const env = { REBOUND_URL: server.url };
      const since = new Date().toISOString();
      const entries = Array.from({ length: 12 }, (_, n) => ({
        Source: 'cli.test',
        DetailType: 'Deployed',
        Detail: JSON.stringify({ n }),
      }));
      entries.push({ Source: 'cli.test', DetailType: 'Deployed', Detail: '{not json' });
      const file = join(dir.path, 'entries.json');
      writeFileSync(file, JSON.stringify(entries));
      // Thirteen entries: two calls of PutEvents' ten at most; the malformed one fails alone (exit 1).
      const put = await runCli(['events', 'put', '--entries', file, '-o', 'json'], { env });
      expect(put.code).toBe(1);
      expect(put.stderr).toBe('1 of 13 entries failed\n');
      const answer = JSON.parse(put.stdout) as { FailedEntryCount: number; Entries: { EventId?: string }[] };
      expect(answer.FailedEntryCount).toBe(1);
      expect(answer.Entries.slice(0, 12).every((e) => typeof e.EventId === 'string')).toBe(true);
      expect(answer.Entries[12]).toEqual({
        ErrorCode: 'MalformedDetail',
        ErrorMessage: 'Detail is not valid JSON',
      });

      const listed = await runCli(['events', 'list', '--since', since, '--limit', '1000', '-o', 'json'], {
        env,
      });
      const ids = (JSON.parse(listed.stdout) as { items: { envelope: { id: string } }[] }).items.map(
        (e) => e.envelope.id,
      );
      expect(ids).toEqual(expect.arrayContaining(answer.Entries.slice(0, 12).map((e) => e.EventId)));
      const newest = await runCli(['events', 'list', '--since', since, '--newest-first', '-o', 'json'], {
        env,
      });
      const newestIds = (JSON.parse(newest.stdout) as { items: { envelope: { id: string } }[] }).items.map(
        (e) => e.envelope.id,
      );
      expect(newestIds.indexOf(answer.Entries[11]!.EventId!)).toBeLessThan(
        newestIds.indexOf(answer.Entries[0]!.EventId!),
      );
      const table = await runCli(['events', 'list', '--since', since], { env });
      expect(table.stdout).toMatch(/^ID\s+TIME\s+SOURCE\s+DETAIL-TYPE\s+REPLAY\n/);
      expect(table.stdout).toContain('cli.test');
      const show = await runCli(['events', 'show', answer.Entries[0]!.EventId!], { env });
      expect(JSON.parse(show.stdout).envelope).toMatchObject({ source: 'cli.test', detail: { n: 0 } });

      const empty = join(dir.path, 'empty.json');
      writeFileSync(empty, '{"Entries": []}');
      const none = await runCli(['events', 'put', '--entries', empty], { env });
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(
        /^error: --entries: .*empty\.json holds no entries; expected a JSON array like/,
      );

      const rules = await runCli(['rules', 'list'], { env });
      expect(rules.code).toBe(0);
      expect(rules.stdout).toMatch(/^NAME\s+ENABLED\s+TARGETS\s+PATTERN\n/);
      expect(rules.stdout).toMatch(
        /alerts-to-incidents\s+true\s+alerts-to-incidents\/incidents \(incidents\)\s+\{"source":\["rebound.alertmanager"\]\}/,
      );
    },
  );

  it(
    'events put: a call refused as a whole still prints what the calls before it stored, and names the entries not stored by their place in the file',
    { timeout: 60_000 },
    async () => {
      const env = { REBOUND_URL: server.url };
      const since = new Date().toISOString();
      const entries = Array.from({ length: 23 }, (_, n) => ({
        Source: 'cli.partial',
        DetailType: 'Deployed',
        Detail: JSON.stringify({ n }),
      }));
      entries[3]!.Detail = '{not json'; // fails alone, in the first call
      entries[15]!.Source = 'bad\ud800'; // the server refuses the whole second call (400)
      const file = join(dir.path, 'partial.json');
      writeFileSync(file, JSON.stringify(entries));

      const put = await runCli(['events', 'put', '--entries', file, '-o', 'json'], { env });
      expect(put.code).toBe(1);
      const answer = JSON.parse(put.stdout) as {
        FailedEntryCount: number;
        Entries: { EventId?: string; ErrorCode?: string; ErrorMessage?: string }[];
      };
      expect(answer.FailedEntryCount).toBe(14);
      expect(answer.Entries).toHaveLength(23);
      const stored = answer.Entries.slice(0, 10).filter((e) => e.EventId !== undefined);
      expect(stored).toHaveLength(9);
      expect(answer.Entries[3]).toEqual({
        ErrorCode: 'MalformedDetail',
        ErrorMessage: 'Detail is not valid JSON',
      });
      expect(answer.Entries.slice(10, 20).every((e) => e.ErrorCode === 'CallRefused')).toBe(true);
      expect(answer.Entries[15]!.ErrorMessage).toMatch(
        /^not stored: body\.Entries\[15\]\.Source: holds an unpaired/,
      );
      expect(answer.Entries.slice(20).every((e) => e.ErrorCode === 'NotSent')).toBe(true);
      expect(put.stderr).toMatch(
        /^error: entries 10-19 not stored: the server refused their call: body\.Entries\[15\]\.Source: holds an unpaired .*\(BAD_REQUEST\)\n/,
      );
      expect(put.stderr).toContain('error: entries 20-22 not sent: sending stops at a failed call\n');
      expect(put.stderr).toMatch(/14 of 23 entries failed\n$/);
      expect(put.stderr).not.toContain('Entries[5]');

      // What it printed is what was stored: the first call's entries, and nothing after.
      const listed = await runCli(['events', 'list', '--since', since, '--limit', '1000', '-o', 'json'], {
        env,
      });
      const ids = (
        JSON.parse(listed.stdout) as { items: { envelope: { id: string; source: string } }[] }
      ).items
        .filter((e) => e.envelope.source === 'cli.partial')
        .map((e) => e.envelope.id);
      expect(ids.sort()).toEqual(stored.map((e) => e.EventId).sort());

      const table = await runCli(['events', 'put', '--entries', file], { env });
      expect(table.code).toBe(1);
      expect(table.stdout).toMatch(/^ENTRY\s+EVENTID\s+ERROR\n0\s+\S+-\S+\s+-\n/);
      expect(table.stdout).toMatch(/\n15\s+-\s+CallRefused: not stored: body\.Entries\[15\]\.Source/);
      expect(table.stdout).toMatch(/\n22\s+-\s+NotSent: not sent/);
    },
  );

  it(
    'validates configuration files with exit codes 0 / 1 and prints the JSON Schema',
    { timeout: 60_000 },
    async () => {
      const good = join(dir.path, 'good.yaml');
      const bad = join(dir.path, 'bad.yaml');
      writeFileSync(good, 'server:\n  listen: 127.0.0.1:9999\n');
      writeFileSync(bad, 'server:\n  listen: 127.0.0.1:9999\n  bogus: true\n');
      const [ok, ko, schema, usage] = await Promise.all([
        runCli(['validate', good]),
        runCli(['validate', bad]),
        runCli(['config', 'schema']),
        runCli(['incidents', 'list', '--output', 'xml']),
      ]);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toContain('is valid');
      expect(ko.code).toBe(1);
      expect(ko.stderr).toMatch(/server: unknown key\(s\) "bogus"/);
      expect(schema.code).toBe(0);
      expect(JSON.parse(schema.stdout).properties.server).toBeDefined();
      expect(usage.code).toBe(2);
    },
  );

  it(
    'has --help on every command and says how to reach a server that is not running',
    { timeout: 60_000 },
    async () => {
      const helps = await Promise.all(
        [[], ['serve'], ['validate'], ['config'], ['incidents'], ['incidents', 'list']].map((args) =>
          runCli([...args, '--help']),
        ),
      );
      for (const h of helps) {
        expect(h.code).toBe(0);
        expect(h.stdout).toMatch(/^Usage: rebound/);
      }
      const down = await runCli(['incidents', 'list'], { env: { REBOUND_URL: 'http://127.0.0.1:1' } });
      expect(down.code).toBe(1);
      expect(down.stderr).toMatch(/cannot reach Rebound.*rebound serve/);
    },
  );

  it('says what is wrong with an argument a command checks itself, with exit code 2', async () => {
    const [from, params] = await Promise.all([
      runCli(['analytics', '--from', 'yesterday'], { env: { REBOUND_URL: server.url } }),
      runCli(['action', 'run', 'k8s.restart', '--params', 'nope', '--kubeconfig', '/dev/null']),
    ]);
    expect(from.code).toBe(2);
    expect(from.stderr).toMatch(/"yesterday" is neither an ISO-8601 time .* nor a duration/);
    expect(params.code).toBe(2);
    expect(params.stderr).toMatch(/--params is not JSON/);
  });

  it(
    'incidents list pages with --cursor and says how to get the next page',
    { timeout: 60_000 },
    async () => {
      const env = { REBOUND_URL: server.url };
      const firing = JSON.parse(readFileSync(join(REPO, 'examples', 'alertmanager-firing.json'), 'utf8'));
      const alert = firing.alerts[0];
      delete alert.fingerprint;
      alert.labels = { alertname: 'CursorTest', service: 'cursor-test', severity: 'warning' };
      firing.groupLabels = { alertname: 'CursorTest' };
      firing.commonLabels = alert.labels;
      const res = await fetch(`${server.url}/v1/webhooks/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(firing),
      });
      expect(res.status).toBe(200);
      let all = await runCli(['incidents', 'list', '-o', 'json'], { env });
      for (let i = 0; i < 50 && JSON.parse(all.stdout).items.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 100));
        all = await runCli(['incidents', 'list', '-o', 'json'], { env });
      }
      const ids = (JSON.parse(all.stdout).items as { id: string }[]).map((i) => i.id);
      expect(ids.length).toBeGreaterThanOrEqual(2);

      const first = await runCli(['incidents', 'list', '--limit', '1'], { env });
      expect(first.code).toBe(0);
      expect(first.stdout).toContain(ids[0]);
      const cursor = /^more: --cursor (\S+)$/m.exec(first.stdout)?.[1];
      expect(cursor).toBeDefined();
      const second = await runCli(['incidents', 'list', '--limit', '1', '--cursor', cursor!], { env });
      expect(second.code).toBe(0);
      expect(second.stdout).toContain(ids[1]);
      expect(second.stdout).not.toContain(ids[0]);
    },
  );

  it(
    'serve says a data directory that is a file (or lies under one) is not a directory, with exit code 1',
    { timeout: 60_000 },
    async () => {
      const own = tempDir('rebound-cli-datadir-');
      try {
        const file = join(own.path, 'x');
        writeFileSync(file, 'not a directory\n');
        const config = join(own.path, 'rebound.yaml');
        writeFileSync(config, `dataDir: ${file}\n`);
        const listen = ['serve', '--listen', '127.0.0.1:0'];
        const [flag, under, configured] = await Promise.all([
          runCli([...listen, '--data-dir', file]),
          runCli([...listen, '--data-dir', join(file, 'data')]),
          runCli([...listen, '--config', config]),
        ]);
        expect(flag).toMatchObject({
          code: 1,
          stderr: `error: --data-dir ${file} is a file, not a directory\n`,
        });
        expect(under).toMatchObject({
          code: 1,
          stderr: `error: --data-dir ${join(file, 'data')} cannot be created: ${file} is a file, not a directory\n`,
        });
        expect(configured).toMatchObject({
          code: 1,
          stderr: `error: ${file} (dataDir in ${config}) is a file, not a directory\n`,
        });
      } finally {
        own.remove();
      }
    },
  );

  it(
    'serve refuses a bad --listen, and exits when its address is taken instead of running headless',
    { timeout: 60_000 },
    async () => {
      for (const listen of ['8080', 'localhost', '127.0.0.1:99999']) {
        const bad = await runCli(['serve', '--listen', listen]);
        expect(bad.code).toBe(2);
        expect(bad.stderr).toMatch(/--listen.*is invalid/);
      }
      const other = tempDir('rebound-cli-taken-');
      try {
        // runCli waits for the process to exit: before the fix it kept running after the failed start.
        const taken = await runCli(['serve', '--listen', new URL(server.url).host, '--data-dir', other.path]);
        expect(taken.code).toBe(1);
        expect(taken.stderr).toMatch(/EADDRINUSE/);
      } finally {
        other.remove();
      }
    },
  );
});
