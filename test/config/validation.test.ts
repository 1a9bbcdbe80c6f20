import { createHash } from 'node:crypto';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { createApp } from '../../src/app.ts';
import { RuleSet } from '../../src/bus/rules.ts';
import { loadConfig, parseConfig } from '../../src/config/load.ts';
import { unreachedRunbooks, unstartedRunbooks } from '../../src/config/references.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { isReboundError } from '../../src/errors.ts';
import { tempDir } from '../support/app.ts';
import { REPO, runCli } from '../support/process.ts';

const dirs: { remove: () => void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

function write(text: string, name = 'rebound.yaml'): string {
  const d = tempDir();
  dirs.push(d);
  const file = join(d.path, name);
  writeFileSync(file, text);
  return file;
}

async function loadError(file: string, env: Record<string, string> = {}): Promise<Error> {
  const err = await loadConfig({ path: file, env }).then(
    () => new Error('expected the configuration to be refused'),
    (e: unknown) => e as Error,
  );
  expect(isReboundError(err) && err.code).toBe('INVALID_CONFIG');
  return err;
}

// Every rule here passes the schema alone; the bus refuses each when it loads them.
const BAD_RULES = `bus:
  rules:
    - name: r1
      pattern: { source: rebound.alertmanager }
      targets: [{ kind: log, id: a }]
    - name: r2
      pattern: {}
      targets: [{ kind: log, id: a }, { kind: log, id: a }]
    - name: r2
      pattern: { source: [x] }
      targets:
        - { kind: log, id: a, input: { InputPath: "not a path" } }
        - { kind: log, id: b, input: { InputTransformer: { InputTemplate: '{"a": <y>}' } } }
`;

const EXPECTED_PATHS = [
  'bus.rules[0].pattern.source',
  'bus.rules[1].targets[1].id',
  'bus.rules[1].pattern',
  'bus.rules[2].targets[0].input.InputPath',
  'bus.rules[2].targets[1].input.InputTransformer.InputTemplate',
  'bus.rules[2].name',
];

describe('rules are checked when the configuration is read, as the bus checks them', () => {
  it('reports every rule problem with its key path and the file', async () => {
    const file = write(BAD_RULES);
    const err = await loadError(file);
    expect(err.message.split('\n')[0]).toBe(`${file} is invalid:`);
    const details = (err as { details?: { path: string }[] }).details ?? [];
    expect(details.map((d) => d.path).sort()).toEqual([...EXPECTED_PATHS].sort());
    expect(err.message).toMatch(/bus\.rules\[0\]\.pattern\.source: a field must hold an array/);
    expect(err.message).toMatch(/bus\.rules\[2\]\.targets\[0\]\.input\.InputPath: JSONPath "not a path"/);
    expect(err.message).toMatch(/InputTemplate: placeholder <y> is not defined/);
    expect(err.message).toMatch(/bus\.rules\[2\]\.name: rule "r2" is already defined at bus\.rules\[1\]/);
    expect(err.message).toMatch(/bus\.rules\[1\]\.targets\[1\]\.id: "a" is already the id of targets\[0\]/);
  });

  it('still checks a rule when another rule or section has a schema error', () => {
    const err = (() => {
      try {
        parseConfig({
          server: { listen: 'nowhere' },
          bus: {
            rules: [
              { name: 'ok', pattern: {}, targets: [{ kind: 'log', id: 'a' }] },
              { name: 'bad', pattern: { source: ['x'] }, targets: [{ kind: 'nope', id: 'a' }] },
            ],
          },
        } as unknown as ConfigInput);
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected a refusal');
    })();
    expect(err.message).toMatch(/bus\.rules\[0\]\.pattern: empty objects are not allowed/);
    expect(err.message).toMatch(/bus\.rules\[1\]\.targets\[0\]/);
    expect(err.message).toMatch(/server\.listen/);
  });

  it('RuleSet refuses the same rules with the same paths, all at once', () => {
    const rules = [
      { name: 'r', enabled: true, pattern: {}, targets: [] },
      { name: 'r', enabled: true, pattern: { source: ['x'] }, targets: [] },
    ];
    expect(() => new RuleSet(rules)).toThrow(
      /bus\.rules\[1\]\.name: rule "r" is already defined[\s\S]*bus\.rules\[0\]\.pattern: empty objects/,
    );
  });

  it('`rebound validate` exits 1 and prints every problem', { timeout: 60_000 }, async () => {
    const file = write(BAD_RULES);
    const noRunbooks = write('workflows:\n  runbooksDir: /nonexistent/runbooks\n');
    const [result, missing] = await Promise.all([
      runCli(['validate', file]),
      runCli(['validate', noRunbooks]),
    ]);
    expect(result.code).toBe(1);
    for (const path of EXPECTED_PATHS) expect(result.stderr).toContain(`  - ${path}: `);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('workflows.runbooksDir: /nonexistent/runbooks does not exist');
  });

  it(
    '`rebound validate` loads the runbooks as serve does, and reports every invalid one',
    {
      timeout: 60_000,
    },
    async () => {
      const config = write(
        'workflows:\n  runbooksDir: runbooks\nincidents:\n  runbooks: { fallback: triage }\n',
      );
      const runbooks = join(config, '..', 'runbooks');
      mkdirSync(runbooks);
      const task = (resource: string) =>
        JSON.stringify({ StartAt: 'T', States: { T: { Type: 'Task', Resource: resource, End: true } } });
      writeFileSync(join(runbooks, 'restart.asl.json'), task('rebound:k8s.restart'));
      writeFileSync(join(runbooks, 'notes.txt'), 'not a runbook');
      const cwd = join(config, '..');
      const valid = await runCli(['validate', config], { cwd });
      expect(valid.code).toBe(0);
      expect(valid.stdout).toContain('is valid, with 1 runbook(s) from');
      // As at start-up, a runbook the configuration names but nobody wrote is a warning, not an error.
      expect(valid.stderr).toContain("incidents.runbooks.fallback names runbook 'triage'");

      writeFileSync(join(runbooks, 'nuke.asl.json'), task('rebound:k8s.nuke'));
      writeFileSync(join(runbooks, 'broken.asl.yaml'), 'StartAt: [');
      const invalid = await runCli(['validate', config], { cwd });
      expect(invalid.code).toBe(1);
      expect(invalid.stderr).toContain('2 runbooks in');
      expect(invalid.stderr).toMatch(/broken\.asl\.yaml cannot be parsed/);
      // Task resources are checked against the actions this configuration gives the server.
      expect(invalid.stderr).toMatch(
        /nuke\.asl\.json: workflow 'nuke' is not a valid state machine: States\.T\.Resource: 'rebound:k8s\.nuke' is not a known action \(known: .*k8s\.restart/,
      );
    },
  );
});

describe('the default rules and routed runbooks', () => {
  const names = (input: ConfigInput) => parseConfig(input).bus.rules.map((r) => r.name);
  const routed = {
    incidents: { runbooks: { routes: [{ runbook: 'my-fix', match: { alertname: ['Foo'] } }] } },
  };

  it('start every runbook routing names, the shipped ones and yours', () => {
    expect(names(routed)).toEqual(expect.arrayContaining(['runbook.high-error-rate', 'runbook.my-fix']));
    expect(unstartedRunbooks(parseConfig(routed))).toEqual([]);
  });

  it('name the rule of a runbook with a long name within the 64 characters a rule name may have', () => {
    const long = (tail: string) => `remediate-${'x'.repeat(56)}-${tail}`; // 70 characters
    const config = parseConfig({
      incidents: {
        runbooks: {
          routes: [
            { runbook: long('a'), match: { alertname: ['A'] } },
            { runbook: long('b'), match: { alertname: ['B'] } },
          ],
        },
      },
    });
    const rules = config.bus.rules.filter((r) =>
      r.targets.some((t) => t.kind === 'workflow' && t.workflow.startsWith('remediate-')),
    );
    expect(rules).toHaveLength(2);
    for (const rule of rules) {
      expect(rule.name).toMatch(/^runbook\.remediate-x+-[0-9a-f]{8}$/);
      expect(rule.name.length).toBeLessThanOrEqual(64);
    }
    expect(rules[0]!.name).not.toBe(rules[1]!.name);
    expect(unstartedRunbooks(config)).toEqual([]);
  });

  it('are replaced by bus.rules, unless includeDefaultRules keeps them (a rule of the same name replaces one)', () => {
    const audit = {
      name: 'alerts-to-incidents',
      pattern: { source: ['rebound.alertmanager'] },
      targets: [{ kind: 'log' as const, id: 'audit' }],
    };
    expect(names({ ...routed, bus: { rules: [audit] } })).toEqual(['alerts-to-incidents']);
    const kept = parseConfig({ ...routed, bus: { rules: [audit], includeDefaultRules: true } }).bus.rules;
    expect(kept.map((r) => r.name)).toContain('runbook.my-fix');
    expect(kept.filter((r) => r.name === 'alerts-to-incidents')).toEqual([
      expect.objectContaining({ targets: [expect.objectContaining({ kind: 'log' })] }),
    ]);
  });

  it(
    '`rebound validate` warns about a cluster whose kubeconfig cannot be read',
    { timeout: 60_000 },
    async () => {
      const file = write('kubernetes:\n  clusters:\n    prod: { kubeconfig: /nonexistent/kubeconfig }\n');
      const result = await runCli(['validate', file]);
      expect(result.code).toBe(0); // it may be mounted where Rebound runs
      expect(result.stderr).toMatch(
        /^warning: kubernetes\.clusters\.prod: cannot read kubeconfig \/nonexistent\/kubeconfig: ENOENT/m,
      );
    },
  );

  it(
    '`rebound validate` warns when a routed runbook has no rule to start it',
    { timeout: 60_000 },
    async () => {
      const file = write(
        'incidents:\n  runbooks:\n    routes: [{ runbook: bad-deploy, match: { alertname: [X] } }]\n' +
          'bus:\n  rules:\n    - { name: incidents, pattern: { source: [rebound.alertmanager] }, targets: [{ kind: incidents, id: i }] }\n',
      );
      const result = await runCli(['validate', file]);
      expect(result.code).toBe(0);
      expect(result.stderr).toContain(
        "warning: incidents.runbooks.routes[0].runbook routes incidents to runbook 'bad-deploy', but no bus rule starts it: " +
          'bus.rules replaces the default rules, so add the rule runbook.bad-deploy',
      );
      expect(result.stderr).toContain(
        "warning: incidents.runbooks.fallback routes incidents to runbook 'unknown-alert'",
      );
    },
  );

  it('`rebound validate` with no file checks what serve would run: rebound.yaml, or the built-in defaults', async () => {
    const { path: dir, remove } = tempDir();
    onTestFinished(remove);
    const result = await runCli(['validate'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('the built-in configuration (no rebound.yaml here) is valid');
    writeFileSync(join(dir, 'rebound.yaml'), 'logging:\n  level: loud\n');
    const invalid = await runCli(['validate'], { cwd: dir });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('logging.level');
  });

  it('counts only enabled rules of their own as starting a runbook routing does not choose', () => {
    const rule = (enabled: boolean) => ({
      name: 'latency-by-hand',
      enabled,
      pattern: { source: ['ops'] },
      targets: [{ kind: 'workflow' as const, id: 'w', workflow: 'high-latency' }],
    });
    const routes = { routes: [{ runbook: 'high-error-rate', match: { alertname: ['HighErrorRate'] } }] };
    const loaded = ['high-error-rate', 'high-latency', 'unknown-alert'];
    const config = (enabled: boolean) =>
      parseConfig({
        incidents: { runbooks: routes },
        bus: { includeDefaultRules: true, rules: [rule(enabled)] },
      });
    expect(unreachedRunbooks(config(true), loaded)).toEqual([]);
    expect(unreachedRunbooks(config(false), loaded)).toEqual(['high-latency']);
  });

  it('`rebound validate` warns about a loaded runbook that nothing starts', { timeout: 60_000 }, async () => {
    // Routes replace the shipped ones: this file leaves three shipped runbooks without a way to start.
    const file = write(
      `workflows:\n  runbooksDir: ${join(REPO, 'runbooks')}\n` +
        'incidents:\n  runbooks:\n    routes: [{ runbook: high-error-rate, match: { alertname: [HighErrorRate] } }]\n',
    );
    const result = await runCli(['validate', file]);
    expect(result.code).toBe(0);
    const unstarted = [...result.stderr.matchAll(/^warning: runbook '([^']+)' is loaded, but no /gm)];
    expect(unstarted.map((m) => m[1]).sort()).toEqual(['bad-deploy', 'high-latency', 'node-not-ready']);
    expect(result.stderr).toContain(
      'so it runs only when started by hand (routes, when given, replace the shipped ones)',
    );
  });
});

describe('reading the configuration file', () => {
  it('refuses a recursive alias with the file and line, instead of overflowing the stack', async () => {
    const file = write('logging:\n  level: info\nx: &a [*a]\n');
    const err = await loadError(file);
    expect(err.message).toBe(
      `${file} has a recursive alias at line 3, column 8: *a refers to a node that contains it; ` +
        'refer to the anchor only from outside the node it names',
    );
    // A reused anchor is fine.
    const shared = write('incidents:\n  correlation: &c { labels: [alertname] }\n');
    await expect(loadConfig({ path: shared, env: {} })).resolves.toBeDefined();
  });

  it('names the file when aliases expand too much', async () => {
    let text = 'a0: &a0 [x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 8; i++)
      text += `a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(', ')}]\n`;
    const err = await loadError(write(text));
    expect(err.message).toMatch(
      /rebound\.yaml cannot be read: its aliases \(\*name\) expand to too many values/,
    );
  });

  it('explains a file with several YAML documents without library advice', async () => {
    const file = write('logging: {level: info}\n---\ndataDir: x\n');
    const err = await loadError(file);
    expect(err.message).toMatch(
      /holds more than one YAML document \(a "---" separator at line 2, column 1\)/,
    );
    expect(err.message).not.toMatch(/parseAllDocuments/);
  });

  it('names a directory given as the file', async () => {
    const d = tempDir();
    dirs.push(d);
    const err = await loadError(d.path);
    expect(err.message).toBe(
      `${d.path} is a directory, not a configuration file; give the file, e.g. ${join(d.path, 'rebound.yaml')}`,
    );
  });

  it('names the key of an unset or empty variable, and says which it is', async () => {
    const file = write('server:\n  auth:\n    webhookTokens: ["${NOPE_TOKEN}", "${EMPTY_TOKEN}"]\n');
    const err = await loadError(file, { EMPTY_TOKEN: '' });
    expect(err.message).toContain(`${file} uses environment variables that have no value:`);
    expect(err.message).toContain(
      '  - server.auth.webhookTokens[0]: uses unset environment variable(s) NOPE_TOKEN; ' +
        'export a non-empty value or give a default with ${NOPE_TOKEN:-default}',
    );
    expect(err.message).toContain(
      '  - server.auth.webhookTokens[1]: uses environment variable(s) EMPTY_TOKEN, which are set but empty',
    );
  });
});

describe('section checks say what is expected', () => {
  const problems = (input: unknown): string[] => {
    try {
      parseConfig(input);
    } catch (err) {
      return ((err as { details: { path: string; message: string }[] }).details ?? []).map(
        (d) => `${d.path}: ${d.message}`,
      );
    }
    return [];
  };

  it('an SMTP password never goes to a remote server without TLS', () => {
    const email = (extra: object) => ({
      notify: {
        email: {
          host: 'smtp.example.org',
          user: 'rebound',
          password: 'pw',
          from: 'r@x.org',
          to: ['o@x.org'],
          ...extra,
        },
      },
    });
    expect(problems(email({}))).toEqual([
      'notify.email.requireTLS: the password would go in clear text to a server that offers no STARTTLS (or to ' +
        'whoever strips it): set requireTLS: true (STARTTLS, port 587) or secure: true (TLS, port 465)',
    ]);
    expect(problems(email({ requireTLS: true }))).toEqual([]);
    expect(problems(email({ secure: true, port: 465 }))).toEqual([]);
    expect(problems(email({ host: '127.0.0.1' }))).toEqual([]); // a relay on this machine
  });

  it('kubernetes clusters', () => {
    expect(problems({ kubernetes: { clusters: { prod: { kubeconfig: 5 } } } })).toEqual([
      'kubernetes.clusters.prod.kubeconfig: Invalid input: expected string, received number',
    ]);
    expect(problems({ kubernetes: { clusters: { prod: { inCluster: true, context: 'x' } } } })).toEqual([
      "kubernetes.clusters.prod.context: inCluster: true uses the pod's ServiceAccount, so context has no " +
        'effect; remove context, or remove inCluster to use a kubeconfig',
    ]);
    expect(
      problems({ kubernetes: { defaultCluster: 'nope', clusters: { prod: {}, eu: { inCluster: true } } } }),
    ).toEqual(['kubernetes.defaultCluster: no cluster "nope" in kubernetes.clusters (configured: prod, eu)']);
    // Without clusters the name labels the implicit kubectl-style cluster.
    expect(problems({ kubernetes: { defaultCluster: 'anything' } })).toEqual([]);
  });

  it('guard durations', () => {
    expect(problems({ guard: { budget: { window: 1.5 } } })).toEqual([
      'guard.budget.window: a duration: whole milliseconds (e.g. 1500) or text such as 250ms, 1.5s, 5m, 1h or 7d',
    ]);
    expect(problems({ guard: { lock: { ttl: 0, pollInterval: '0s' } } })).toEqual([
      'guard.lock.ttl: more than 0 (a lease of 0 expires as it is taken)',
      'guard.lock.pollInterval: more than 0 (0 would re-check without pause)',
    ]);
    expect(problems({ guard: { lock: { ttl: 30, pollInterval: 5, wait: 0 } } })).toEqual([]);
  });

  it('server tokens: each listed once, compared by value, and each API token name once', () => {
    const admin = 'admin-token-0123456789abcdef';
    const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');
    // Only the first entry counted, so the order of the entries decided the token's role.
    const listedTwice = problems({
      server: {
        auth: {
          apiTokens: [
            { name: 'view', role: 'viewer', token: admin },
            { name: 'view2', role: 'admin', token: admin },
          ],
        },
      },
    });
    expect(listedTwice).toEqual([
      'server.auth.apiTokens[1]: this entry (name "view2", role admin) has the same token as ' +
        'server.auth.apiTokens[0] (name "view", role viewer), so its role would depend on the order of the ' +
        'entries; list each token once: remove one entry, or give it a token of its own',
    ]);
    // A token and another entry's SHA-256 of it are the same token.
    expect(
      problems({
        server: {
          auth: {
            apiTokens: [
              { name: 'ci', role: 'operator', sha256: hashOf(admin) },
              { name: 'ops', role: 'admin', token: admin },
            ],
          },
        },
      }),
    ).toEqual([
      expect.stringMatching(
        /^server\.auth\.apiTokens\[1\]: .*same token as server\.auth\.apiTokens\[0\] \(name "ci", role operator\)/,
      ),
    ]);
    expect(
      problems({
        server: {
          auth: {
            apiTokens: [
              { name: 'ops', role: 'viewer', token: 'viewer-token-0123456789' },
              { name: 'ops', role: 'admin', token: admin },
            ],
          },
        },
      }),
    ).toEqual([
      'server.auth.apiTokens[1].name: this entry (name "ops", role admin) has the same name as ' +
        'server.auth.apiTokens[0] (name "ops", role viewer); the name is the actor recorded for what its ' +
        'token does, so give each entry a name of its own',
    ]);
    expect(
      problems({
        server: {
          auth: { webhookTokens: ['am-token-0123456789', 'other-0123456789', 'am-token-0123456789'] },
        },
      }),
    ).toEqual([
      'server.auth.webhookTokens[2]: the same token as server.auth.webhookTokens[0]; list each token once: ' +
        'remove one, or give the sender a token of its own',
    ]);
    for (const message of listedTwice) expect(message).not.toContain(admin);
    // An entry with no token at all gets its own issue, not a crash of the duplicate check.
    expect(
      problems({
        server: {
          auth: {
            apiTokens: [
              { name: 'ci', role: 'admin' },
              { name: 'ops', role: 'admin', sha265: hashOf(admin) },
            ],
          },
        },
      }),
    ).toEqual([
      expect.stringMatching(/^server\.auth\.apiTokens\[0\]: give exactly one of sha256 or token/),
      expect.stringMatching(/^server\.auth\.apiTokens\[1\]: .*sha265/),
      'server.auth.apiTokens[1]: give exactly one of sha256 or token',
    ]);
  });

  it('server tokens are compared once resolved from the environment, and never printed', async () => {
    const file = write(
      'server:\n  auth:\n    apiTokens:\n      - { name: view, role: viewer, token: "${VIEW_TOKEN}" }\n' +
        '      - { name: view2, role: admin, token: "${ADMIN_TOKEN}" }\n',
    );
    const same = 'copied-by-mistake-0123456789';
    const err = await loadError(file, { VIEW_TOKEN: same, ADMIN_TOKEN: same });
    expect(err.message).toContain(
      'server.auth.apiTokens[1]: this entry (name "view2", role admin) has the same token as ' +
        'server.auth.apiTokens[0] (name "view", role viewer)',
    );
    expect(err.message).not.toContain(same);
    await expect(
      loadConfig({ path: file, env: { VIEW_TOKEN: same, ADMIN_TOKEN: `${same}-admin` } }),
    ).resolves.toBeDefined();
  });

  it('server and dataDir', () => {
    expect(problems({ server: { listen: 'localhost' } })).toEqual([
      'server.listen: HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080',
    ]);
    // An unset variable's neighbour (`${HOME}:80`) is not a host name.
    expect(problems({ server: { listen: '/root:80' } })).toEqual([
      'server.listen: HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080',
    ]);
    for (const listen of ['0.0.0.0:8080', 'rebound-0.rebound.svc:8080', '[::]:8080', '[::ffff:127.0.0.1]:1'])
      expect(problems({ server: { listen } }), listen).toEqual([]);
    expect(problems({ server: { listen: 'localhost:70000' } })).toEqual([
      'server.listen: the port must be 65535 or less',
    ]);
    expect(problems({ server: { publicUrl: 'javascript:alert(1)' } })).toEqual([
      'server.publicUrl: an http(s) URL such as https://rebound.example.com',
    ]);
    expect(problems({ server: { publicUrl: 'https://rebound.example.com/' } })).toEqual([]);
    expect(problems({ dataDir: '' })).toEqual([
      'dataDir: a directory path; omit the key for the default .rebound',
    ]);
  });
});

describe('runbooks at start', () => {
  async function started(config: ConfigInput, cwdDir: string) {
    const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
    const app = createApp({
      config: parseConfig({
        ...config,
        dataDir: join(cwdDir, 'data'),
        server: { listen: '127.0.0.1:0' },
        logging: { level: 'warn' },
      }),
      logDestination: { write: (line: string) => void lines.push(JSON.parse(line)) },
    });
    try {
      await app.start();
      return { lines };
    } finally {
      await app.stop();
    }
  }

  it('refuses a configured runbooksDir that does not exist, naming the key', async () => {
    const d = tempDir();
    dirs.push(d);
    await expect(started({ workflows: { runbooksDir: join(d.path, 'nope') } }, d.path)).rejects.toThrow(
      `workflows.runbooksDir: ${join(d.path, 'nope')} does not exist`,
    );
  });

  it('warns about a missing default directory and about routes and targets naming unloaded runbooks', async () => {
    const d = tempDir();
    dirs.push(d);
    const runbooks = join(d.path, 'runbooks');
    mkdirSync(runbooks);
    writeFileSync(
      join(runbooks, 'known.asl.json'),
      JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } }),
    );
    const { lines } = await started(
      {
        workflows: { runbooksDir: runbooks },
        incidents: {
          runbooks: { routes: [{ runbook: 'nope', match: { alertname: ['X'] } }], fallback: 'nothere' },
        },
        bus: {
          rules: [
            {
              name: 'r',
              pattern: { source: ['x'] },
              targets: [
                { kind: 'workflow', id: 'w', workflow: 'known' },
                { kind: 'workflow', id: 'u', workflow: 'unknown' },
              ],
            },
          ],
        },
      },
      d.path,
    );
    const warning = lines.find((l) =>
      l.msg.startsWith('the configuration names runbooks that are not loaded'),
    );
    expect(warning?.msg).toContain(
      'incidents.runbooks.routes[0].runbook (nope), incidents.runbooks.fallback (nothere), ' +
        'bus.rules[0].targets[1].workflow (unknown)',
    );
    expect(warning?.msg).not.toContain('(known)');
  });

  it('only warns when the default directory is missing', async () => {
    const d = tempDir();
    dirs.push(d);
    const cwd = process.cwd();
    process.chdir(d.path);
    try {
      const { lines } = await started({}, d.path);
      expect(lines.map((l) => l.msg)).toContain(
        `no runbooks loaded: ${join(d.path, 'runbooks')} does not exist; ` +
          'set workflows.runbooksDir to your runbooks directory',
      );
    } finally {
      process.chdir(cwd);
    }
  });
});
