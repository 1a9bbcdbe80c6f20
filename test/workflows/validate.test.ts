import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
