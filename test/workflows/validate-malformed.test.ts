import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateDefinition, assertValidDefinition } from '../../src/workflows/validate.ts';
import { makeTestApp, type TestApp } from '../support/app.ts';

// Rebound's own checks run before (or instead of) the schema check, so they meet definitions of any shape.
/** A Task that ends the machine: retriers and catchers are fields of a Task, not of a Pass. */
const task = { Type: 'Task', Resource: 'rebound:k8s.restart', End: true };

const MALFORMED: [definition: unknown, path: string, message: string][] = [
  [
    { StartAt: 'A', States: { A: { Type: 'Parallel', End: true, Branches: [null] } } },
    'States.A.Branches[0]',
    'must be a state machine (an object with StartAt and States)',
  ],
  [
    { StartAt: 'A', States: { A: { Type: 'Parallel', End: true, Branches: 'x' } } },
    'States.A.Branches',
    'must be an array of state machines (objects with StartAt and States)',
  ],
  [
    { StartAt: 'A', States: { A: { Type: 'Choice', Choices: [null] } } },
    'States.A.Choices[0]',
    'must be a Choice rule (an object)',
  ],
  [
    { StartAt: 'A', States: { A: { Type: 'Choice', Choices: 'x' } } },
    'States.A.Choices',
    'must be an array of Choice rules (objects)',
  ],
  [
    { StartAt: 'A', States: { A: { ...task, Catch: [null] } } },
    'States.A.Catch[0]',
    'must be a catcher (an object with ErrorEquals and Next)',
  ],
  [
    { StartAt: 'A', States: { A: { ...task, Catch: 'x' } } },
    'States.A.Catch',
    'must be an array of catchers (objects with ErrorEquals and Next)',
  ],
  [
    { StartAt: 'A', States: { A: { Type: 'Choice', Choices: [{ And: 'x', Next: 'A' }] } } },
    'States.A.Choices[0].And',
    'must be an array of Choice rules (objects)',
  ],
  [
    { StartAt: 'A', States: { A: { Type: 'Choice', Choices: [{ Or: [null], Next: 'A' }] } } },
    'States.A.Choices[0].Or[0]',
    'must be a Choice rule (an object)',
  ],
];

const pass = { Type: 'Pass', End: true };
const machine = (states: Record<string, unknown>, startAt = 'A') => ({ StartAt: startAt, States: states });

// Other places that assumed a shape, each with the one issue it now gives.
const MORE_MALFORMED: [definition: unknown, path: string, message: string][] = [
  [{ StartAt: 'A', States: [] }, 'States', 'must be an object of states'],
  [{ StartAt: 'A', States: null }, 'States', 'must be an object of states'],
  [machine({ A: null }), 'States.A', 'must be a state (an object with a Type)'],
  [machine({ A: 'Pass' }), 'States.A', 'must be a state (an object with a Type)'],
  [machine({ A: { Type: ['Pass'], End: true } }), 'States.A.Type', expect.stringContaining('must be one of')],
  [machine({ A: { Type: 'Pass', Next: 5 } }), 'States.A.Next', 'must be the name of a state (a string)'],
  [
    machine({ A: { Type: 'Choice', Choices: [{ IsNull: true, Variable: '$', Next: 'A' }], Default: {} } }),
    'States.A.Default',
    'must be the name of a state (a string)',
  ],
  [
    machine({ A: { ...task, Catch: [{ ErrorEquals: ['States.ALL'], Next: [] }] } }),
    'States.A.Catch[0].Next',
    'must be the name of a state (a string)',
  ],
  [
    machine({ A: { ...task, Retry: 'x' } }),
    'States.A.Retry',
    'must be an array of retriers (objects with ErrorEquals)',
  ],
  [
    machine({ A: { ...task, Retry: [7] } }),
    'States.A.Retry[0]',
    'must be a retrier (an object with ErrorEquals)',
  ],
  [
    machine({ A: { Type: 'Choice', Choices: [{ Not: null, Next: 'A' }] } }),
    'States.A.Choices[0].Not',
    'must be a Choice rule (an object)',
  ],
  [
    machine({ A: { Type: 'Choice', Choices: [{ Not: { And: [{ Not: 'x' }] }, Next: 'A' }] } }),
    'States.A.Choices[0].Not.And[0].Not',
    'must be a Choice rule (an object)',
  ],
  [
    machine({ A: { Type: 'Choice', Choices: [{ Variable: '$', IsNull: true, Next: null }] } }),
    'States.A.Choices[0].Next',
    'must be the name of a state (a string)',
  ],
  [
    machine({ A: { Type: 'Map', End: true, ItemProcessor: null } }),
    'States.A.ItemProcessor',
    'must be a state machine (an object with StartAt and States)',
  ],
  [
    machine({ A: { Type: 'Map', End: true, Iterator: 'x' } }),
    'States.A.Iterator',
    'must be a state machine (an object with StartAt and States)',
  ],
  [
    machine({ A: { Type: 'Map', End: true, ItemProcessor: { StartAt: 'Z', States: 'x' } } }),
    'States.A.ItemProcessor.States',
    'must be an object of states',
  ],
  [
    machine({ A: { Type: 'Parallel', End: true, Branches: [machine({ Z: [] }, 'Z')] } }),
    'States.A.Branches[0].States.Z',
    'must be a state (an object with a Type)',
  ],
];

describe('malformed definitions give issues, never a throw', () => {
  it.each([...MALFORMED, ...MORE_MALFORMED])('%j → %s', (definition, path, message) => {
    expect(validateDefinition(definition, { schema: false })).toEqual([{ path, message }]);
  });

  it('assertValidDefinition rejects them with INVALID_DEFINITION', () => {
    for (const [definition, path] of MALFORMED) {
      expect(() => assertValidDefinition(definition)).toThrow(
        expect.objectContaining({ code: 'INVALID_DEFINITION', path }),
      );
    }
  });

  it('StartAt must be a string naming an own state, not a property every object inherits', () => {
    const unreachable = { path: 'States.A', message: "the state 'A' is not reachable from StartAt" };
    for (const start of [5, null, ['A'], { A: 1 }]) {
      expect(validateDefinition({ StartAt: start, States: { A: pass } }, { schema: false })).toEqual([
        { path: 'StartAt', message: 'must be the name of a state (a string)' },
        unreachable,
      ]);
    }
    for (const name of ['__proto__', 'constructor', 'toString']) {
      expect(validateDefinition(machine({ A: pass }, name), { schema: false })).toEqual([
        { path: 'StartAt', message: `'${name}' is not a state of this state list` },
        unreachable,
      ]);
    }
  });
});

/** A definition using every field the checks read, so that replacing any value in it reaches every check. */
const RICH = {
  StartAt: 'T',
  States: {
    T: {
      Type: 'Task',
      Resource: 'rebound:k8s.restart',
      Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 2 }],
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'F' }],
      Next: 'C',
    },
    C: {
      Type: 'Choice',
      Choices: [
        {
          And: [{ Variable: '$.a', IsPresent: true }, { Not: { Variable: '$.b', IsNull: true } }],
          Next: 'P',
        },
        { Or: [{ Variable: '$.c', StringEquals: 'x' }], Next: 'M' },
      ],
      Default: 'F',
    },
    P: {
      Type: 'Parallel',
      Branches: [{ StartAt: 'X', States: { X: { Type: 'Pass', Next: 'Y' }, Y: { Type: 'Succeed' } } }],
      Next: 'M',
    },
    M: {
      Type: 'Map',
      ItemProcessor: { StartAt: 'I', States: { I: { Type: 'Pass', End: true } } },
      Iterator: { StartAt: 'J', States: { J: { Type: 'Wait', Seconds: 1, End: true } } },
      End: true,
    },
    F: { Type: 'Fail', Error: 'E' },
  },
};

type Path = (string | number)[];

function pathsOf(value: unknown, at: Path = []): Path[] {
  if (typeof value !== 'object' || value === null) return [at];
  const children = Object.entries(value).flatMap(([k, v]) =>
    pathsOf(v, [...at, Array.isArray(value) ? Number(k) : k]),
  );
  return [at, ...children];
}

function replaced(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path.at(-1)!] = value;
  return copy;
}

const RICH_PATHS = pathsOf(RICH);
const knownActions = new Set(['k8s.restart']);

/** ASL-flavoured JSON: objects keyed by the fields the checks read, holding values of any shape. */
const aslish = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('A', 'B', 'Pass', 'Task', 'Choice', 'Parallel', 'Map', 'Succeed', 'JSONata', '__proto__'),
    fc.jsonValue({ maxDepth: 1 }),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(
      fc.constantFrom(
        ...['StartAt', 'States', 'A', 'B', 'Type', 'Next', 'End', 'Default', 'Resource', 'QueryLanguage'],
        ...['Branches', 'ItemProcessor', 'Iterator', 'Catch', 'Retry', 'Choices', 'And', 'Or', 'Not'],
        ...['Condition', 'Variable', 'StringEquals', 'IsNull', 'ItemReader', '__proto__', 'toString'],
      ),
      tie('value'),
      { maxKeys: 6 },
    ),
  ),
})).value;

describe('validation never throws (generated)', () => {
  it('on a rich definition with any one value replaced by any JSON', () => {
    fc.assert(
      fc.property(fc.nat(RICH_PATHS.length - 1), fc.jsonValue(), (i, value) => {
        const issues = validateDefinition(replaced(RICH, RICH_PATHS[i]!, value), {
          schema: false,
          knownActions,
        });
        expect(Array.isArray(issues)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('on the same positions filled with ASL-shaped nonsense', () => {
    fc.assert(
      fc.property(fc.nat(RICH_PATHS.length - 1), aslish, (i, value) => {
        validateDefinition(replaced(RICH, RICH_PATHS[i]!, value), { schema: false, knownActions });
      }),
      { numRuns: 2000 },
    );
  });

  it('on arbitrary ASL-shaped definitions', () => {
    fc.assert(
      fc.property(aslish, (definition) => {
        validateDefinition(definition, { schema: false, knownActions });
      }),
      { numRuns: 2000 },
    );
  });

  it('the unmodified rich definition is valid, so each replacement starts from a clean slate', () => {
    expect(validateDefinition(RICH, { schema: false, knownActions })).toEqual([]);
  });
});

describe('over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await makeTestApp();
  });
  afterAll(async () => t.close());

  it.each(MALFORMED)(
    'POST /v1/workflows/validate answers 200 valid:false; POST /v1/executions 400 (%j)',
    async (definition, path, message) => {
      const validate = await t.app.http.inject({
        method: 'POST',
        url: '/v1/workflows/validate',
        payload: { definition },
      });
      expect(validate.statusCode).toBe(200);
      expect(validate.json()).toEqual({ valid: false, issues: [{ path, message }] });
      const start = await t.app.http.inject({
        method: 'POST',
        url: '/v1/executions',
        payload: { definition, input: {} },
      });
      expect(start.statusCode).toBe(400);
      expect(start.json()).toMatchObject({ code: 'INVALID_DEFINITION', path });
    },
  );
});
