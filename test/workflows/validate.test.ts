import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STATE_FIELDS } from '../../src/workflows/fields.ts';
import { loadRunbooks, WorkflowRegistry } from '../../src/workflows/registry.ts';
import { assertValidDefinition, validateDefinition } from '../../src/workflows/validate.ts';

const known = { knownActions: new Set(['k8s.restart', 'notify.slack']) };

describe('definition validation', () => {
  it('accepts a valid runbook with rebound resources, callbacks and nested branches', () => {
    const def = {
      StartAt: 'Restart',
      States: {
        Restart: { Type: 'Task', Resource: 'rebound:k8s.restart', Next: 'Ask' },
        Ask: { Type: 'Task', Resource: 'rebound:notify.slack.waitForTaskToken', Next: 'P' },
        P: {
          Type: 'Parallel',
          Branches: [{ StartAt: 'X', States: { X: { Type: 'Pass', End: true } } }],
          End: true,
        },
      },
    };
    expect(validateDefinition(def, known)).toEqual([]);
  });

  it('names the state and field of each problem', () => {
    const def = {
      StartAt: 'A',
      States: {
        A: { Type: 'Task', Resource: 'rebound:k8s.nuke', Next: 'Missing' },
        B: { Type: 'Pass', End: true },
        C: { Type: 'Bogus' },
        D: { Type: 'Choice', Choices: [{ Variable: '$.x', Next: 'B' }], Default: 'Nowhere' },
        E: {
          Type: 'Map',
          ItemReader: {},
          ItemProcessor: { StartAt: 'Z', States: { Z: { Type: 'Pass', Next: 'Q' } } },
          End: true,
        },
      },
    };
    const issues = validateDefinition(def, known);
    const paths = issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'States.A.Resource',
        'States.A.Next',
        'States.C.Type',
        'States.D.Default',
        'States.D.Choices[0]',
        'States.E.ItemReader',
        'States.E.ItemProcessor.States.Z.Next',
        'States.B',
      ]),
    );
    expect(issues.find((i) => i.path === 'States.A.Resource')?.message).toContain('not a known action');
    expect(issues.find((i) => i.path === 'States.B')?.message).toContain('not reachable');
  });

  it('runs asl-validator for the schema (e.g. a Wait with two duration fields)', () => {
    const def = {
      StartAt: 'W',
      States: { W: { Type: 'Wait', Seconds: 1, Timestamp: '2020-01-01T00:00:00Z', End: true } },
    };
    expect(validateDefinition(def).length).toBeGreaterThan(0);
    expect(validateDefinition(def, { schema: false })).toEqual([]);
  });

  it('accepts what Step Functions runs though asl-validator refuses it: literal JSONata Output, null in Assign arrays', () => {
    const jsonata = (states: Record<string, unknown>) => ({
      QueryLanguage: 'JSONata',
      StartAt: 'S',
      States: states,
    });
    for (const Output of [null, 0, 0.1, 'string literal', [], [null, 'x', { a: 1 }]])
      expect(validateDefinition(jsonata({ S: { Type: 'Pass', Output, End: true } }))).toEqual([]);
    const choice = jsonata({
      S: {
        Type: 'Choice',
        Choices: [{ Condition: '{% $states.input.ok %}', Next: 'E', Output: 'Condition Output block' }],
        Default: 'E',
        Output: 'otherwise',
      },
      E: { Type: 'Succeed' },
    });
    expect(validateDefinition(choice)).toEqual([]);
    const assign = {
      StartAt: 'S',
      States: { S: { Type: 'Pass', Assign: { constant_lst: [null, '{% $x %}', [null]] }, End: true } },
    };
    expect(validateDefinition(assign)).toEqual([]);
    // The schema still applies everywhere else: Output is a JSONata field only.
    const jsonPath = { StartAt: 'S', States: { S: { Type: 'Pass', Output: 0, End: true } } };
    expect(validateDefinition(jsonPath).length).toBeGreaterThan(0);
  });

  it('refuses a Wait Timestamp that is not RFC 3339, as Step Functions does at creation', () => {
    const wait = (Timestamp: string, QueryLanguage = 'JSONPath') => ({
      QueryLanguage,
      StartAt: 'W',
      States: { W: { Type: 'Wait', Timestamp, End: true } },
    });
    expect(validateDefinition(wait('2016-12-05 21:29:29Z'), { schema: false })).toEqual([
      {
        path: 'States.W.Timestamp',
        message: '"2016-12-05 21:29:29Z" is not an RFC 3339 timestamp, e.g. 2026-01-31T18:00:00Z',
      },
    ]);
    expect(validateDefinition(wait('2016-12-05T21:29:29Z'))).toEqual([]);
    expect(validateDefinition(wait('{% $states.input.t %}', 'JSONata'), { schema: false })).toEqual([]);
  });

  it('parses every intrinsic call before a run, and accepts the escaped backslash asl-validator refuses', () => {
    const pass = (Parameters: Record<string, unknown>, ErrorPath?: string) => ({
      StartAt: 'P',
      States: {
        P: { Type: 'Pass', Parameters, Next: 'F' },
        F: { Type: 'Fail', ...(ErrorPath === undefined ? { Error: 'E' } : { ErrorPath }) },
      },
    });
    expect(validateDefinition(pass({ 'r.$': "States.Format('C:\\\\dir {}', $.x)" }))).toEqual([]);
    expect(
      validateDefinition(
        pass({ nested: { list: [{ 'f.$': "States.Format('a\\qb {}', $.x)" }] } }, "States.Format('\\n')"),
        { schema: false },
      ),
    ).toEqual([
      {
        path: 'States.P.Parameters.nested.list[0].f.$',
        message:
          "invalid intrinsic function 'States.Format('a\\qb {}', $.x)': an open escape '\\q' (only \\', \\{, \\} and \\\\ are escapes) at position 16",
      },
      {
        path: 'States.F.ErrorPath',
        message:
          "invalid intrinsic function 'States.Format('\\n')': an open escape '\\n' (only \\', \\{, \\} and \\\\ are escapes) at position 15",
      },
    ]);
  });

  it('assertValidDefinition throws INVALID_DEFINITION with the issues as details', () => {
    expect(() => assertValidDefinition({ StartAt: 'nope', States: {} })).toThrow(
      expect.objectContaining({
        code: 'INVALID_DEFINITION',
        details: [expect.objectContaining({ path: 'StartAt' })],
      }),
    );
  });

  it('loads runbooks from a directory by file name; an invalid file fails the load', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rebound-runbooks-'));
    try {
      writeFileSync(
        join(dir, 'restart.asl.json'),
        JSON.stringify({
          StartAt: 'R',
          States: { R: { Type: 'Task', Resource: 'rebound:k8s.restart', End: true } },
        }),
      );
      writeFileSync(
        join(dir, 'wait.asl.yaml'),
        'StartAt: W\nStates:\n  W:\n    Type: Wait\n    Seconds: 5\n    End: true\n',
      );
      writeFileSync(join(dir, 'notes.txt'), 'ignored');
      const registry = new WorkflowRegistry(known);
      const loaded = await loadRunbooks(registry, dir);
      expect(loaded.map((w) => w.name)).toEqual(['restart', 'wait']);
      expect(registry.require('wait').definition.StartAt).toBe('W');
      expect(() => registry.require('nope')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
      writeFileSync(
        join(dir, 'bad.asl.json'),
        JSON.stringify({
          StartAt: 'R',
          States: { R: { Type: 'Task', Resource: 'rebound:k8s.nuke', End: true } },
        }),
      );
      await expect(loadRunbooks(new WorkflowRegistry(known), dir)).rejects.toMatchObject({
        code: 'INVALID_DEFINITION',
        message: expect.stringMatching(/^\S+bad\.asl\.json: workflow 'bad' is not a valid state machine/),
        path: 'States.R.Resource',
      });
      // Every invalid file is named at once, not only the first.
      writeFileSync(join(dir, 'broken.asl.yaml'), 'StartAt: [');
      const err = (await loadRunbooks(new WorkflowRegistry(known), dir).catch((e: unknown) => e)) as Error;
      expect(err.message).toMatch(/^2 runbooks in \S+ are invalid:\n {2}- \S+bad\.asl\.json: /);
      expect(err.message).toMatch(/\n {2}- \S+broken\.asl\.yaml cannot be parsed/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('fields a state does not take', () => {
  const one = (state: Record<string, unknown>, top: Record<string, unknown> = {}) =>
    validateDefinition({ ...top, StartAt: 'A', States: { A: state } }, known);

  it('names a field no state of that type takes, and the field it was probably meant to be', () => {
    expect(one({ Type: 'Task', Resource: 'rebound:k8s.restart', TimeoutSecond: 30, End: true })).toEqual([
      {
        path: 'States.A.TimeoutSecond',
        message:
          "the field 'TimeoutSecond' is not supported in a Task state (did you mean 'TimeoutSeconds'?)",
      },
    ]);
    // A field that is real elsewhere is still not this state's, and nothing is guessed when nothing is near.
    expect(one({ Type: 'Pass', Retry: [], End: true })).toEqual([
      { path: 'States.A.Retry', message: "the field 'Retry' is not supported in a Pass state" },
    ]);
    // A Choice state never ends the machine.
    expect(one({ Type: 'Choice', Choices: [], Default: 'A', End: true })[0]?.path).toBe('States.A.End');
    expect(validateDefinition({ StartAt: 'A', Comments: 'x', States: { A: { Type: 'Succeed' } } })).toEqual([
      {
        path: 'Comments',
        message: "the field 'Comments' is not supported in a state machine (did you mean 'Comment'?)",
      },
    ]);
  });

  it('says when a field belongs to the other query language, and what this one uses instead', () => {
    const jsonata = { QueryLanguage: 'JSONata' };
    // Only what the place takes is suggested: a Pass has no Arguments, a catcher only ResultPath.
    expect(one({ Type: 'Pass', Parameters: {}, End: true }, jsonata)[0]?.message).toBe(
      `'Parameters' is a JSONPath field, but this state's query language is JSONata (set "QueryLanguage": "JSONPath" on the state)`,
    );
    expect(
      one({ Type: 'Task', Resource: 'rebound:k8s.restart', Parameters: {}, End: true }, jsonata),
    ).toEqual([
      {
        path: 'States.A.Parameters',
        message:
          "'Parameters' is a JSONPath field, but this state's query language is JSONata" +
          ' (in JSONata, use Arguments; or set "QueryLanguage": "JSONPath" on the state)',
      },
    ]);
    expect(one({ Type: 'Wait', SecondsPath: '$.s', End: true }, jsonata)[0]?.message).toContain(
      'in JSONata, use Seconds with a {% … %} expression',
    );
    // The state's own QueryLanguage wins over the machine's, both ways.
    expect(one({ Type: 'Pass', QueryLanguage: 'JSONata', Output: {}, End: true })).toEqual([]);
    expect(one({ Type: 'Pass', QueryLanguage: 'JSONata', ResultPath: '$.x', End: true })[0]?.path).toBe(
      'States.A.ResultPath',
    );
    expect(one({ Type: 'Pass', Output: {}, End: true })[0]?.message).toMatch(/^'Output' is a JSONata field/);
    expect(one({ Type: 'Pass', QueryLanguage: 'JSONPathh', End: true })).toEqual([
      { path: 'States.A.QueryLanguage', message: 'must be "JSONPath" or "JSONata"' },
    ]);
  });

  it("checks retriers and catchers, which asl-validator's schema leaves open", () => {
    const task = {
      Type: 'Task',
      Resource: 'rebound:k8s.restart',
      Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempt: 5 }],
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'A', Output: {} }],
      End: true,
    };
    expect(one(task).map((i) => [i.path, i.message])).toEqual([
      [
        'States.A.Retry[0].MaxAttempt',
        "the field 'MaxAttempt' is not supported in a retrier (did you mean 'MaxAttempts'?)",
      ],
      ['States.A.Catch[0].Output', expect.stringMatching(/^'Output' is a JSONata field/)],
    ]);
  });

  it("agrees with asl-validator's schemas on every state type in both query languages", () => {
    const dir = join(
      dirname(createRequire(import.meta.url).resolve('asl-validator/package.json')),
      'dist/src/schemas',
    );
    for (const [type, fields] of Object.entries(STATE_FIELDS)) {
      const schema = JSON.parse(readFileSync(join(dir, `${type.toLowerCase()}.json`), 'utf8')) as {
        oneOf: { properties: Record<string, { $ref?: string }> }[];
      };
      for (const variant of schema.oneOf) {
        const language = variant.properties['QueryLanguage']!.$ref!.startsWith('jsonata')
          ? 'JSONata'
          : 'JSONPath';
        const theirs = Object.keys(variant.properties).filter((f) => !(type === 'Choice' && f === 'End'));
        expect([...fields.both, ...fields[language]].sort(), `${type} in ${language}`).toEqual(theirs.sort());
      }
    }
  });
});

describe("asl-validator's findings", () => {
  it("are located like Rebound's own, without the repeated path, and say what a field must hold", () => {
    const wait = (Seconds: unknown, QueryLanguage = 'JSONPath') =>
      validateDefinition({
        QueryLanguage,
        StartAt: 'W',
        States: { W: { Type: 'Wait', Seconds, End: true } },
      });
    expect(wait('10')).toEqual([
      {
        path: 'States.W.Seconds',
        message: 'must be a number of seconds, 0 or more (SCHEMA_VALIDATION_FAILED)',
      },
    ]);
    expect(wait(-1, 'JSONata')[0]?.message).toBe(
      'must be a number of seconds, 0 or more, or a JSONata expression {% … %} (SCHEMA_VALIDATION_FAILED)',
    );
    const retry = validateDefinition({
      StartAt: 'T',
      States: {
        T: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Retry: [{ ErrorEquals: ['X'], MaxAttempts: '3' }],
          End: true,
        },
      },
    });
    expect(retry).toEqual([
      { path: 'States.T.Retry[0].MaxAttempts', message: 'must be number (SCHEMA_VALIDATION_FAILED)' },
    ]);
    // A state may be named with digits: it is not an index.
    expect(
      validateDefinition({ StartAt: '1', States: { '1': { Type: 'Wait', Seconds: 'x', End: true } } })[0]
        ?.path,
    ).toBe('States.1.Seconds');
  });
});
