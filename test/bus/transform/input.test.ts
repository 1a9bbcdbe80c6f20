/**
 * Examples from the EventBridge user guide, doc_source/eb-transform-target-input.md ("Input Transform
 * Examples" table and "Predefined variables"), plus the API reference of InputTransformer.
 */
import { describe, expect, it } from 'vitest';
import {
  compileTargetInput,
  InvalidTargetInputError,
  type TargetInputSpec,
} from '../../../src/bus/transform/index.ts';

const EVENT = {
  version: '0',
  id: '7bf73129-1428-4cd3-a780-95db273d1602',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '123456789012',
  time: '2015-11-11T21:29:54Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111'],
  detail: { 'instance-id': 'i-0123456789', state: 'RUNNING' },
};

const PATHS = { timestamp: '$.time', instance: '$.detail.instance-id', state: '$.detail.state' };
const CONTEXT = { ruleName: 'example', ruleArn: 'arn:aws:events:us-east-2:123456789012:rule/example' };

function transform(template: string, paths: Record<string, string> = PATHS, event: unknown = EVENT) {
  return compileTargetInput({ InputTransformer: { InputPathsMap: paths, InputTemplate: template } }).apply(
    event,
    CONTEXT,
  );
}

describe('InputTransformer, the user guide examples', () => {
  it('simple string', () => {
    const out = transform('"instance <instance> is in <state>"');
    expect(out.body).toBe('"instance i-0123456789 is in RUNNING"');
    expect(out.value).toBe('instance i-0123456789 is in RUNNING');
  });

  it('string with escaped quotes', () => {
    const out = transform('"instance \\"<instance>\\" is in <state>"');
    expect(out.body).toBe('"instance \\"i-0123456789\\" is in RUNNING"');
    expect(out.value).toBe('instance "i-0123456789" is in RUNNING');
  });

  it('simple JSON: unquoted placeholders become JSON values', () => {
    expect(transform('{\n  "instance" : <instance>,\n  "state": <state>\n}').value).toEqual({
      instance: 'i-0123456789',
      state: 'RUNNING',
    });
  });

  it('JSON with strings and variables', () => {
    const template =
      '{"instance" : <instance>, "state": "<state>", "instanceStatus": "instance \\"<instance>\\" is in <state>"}';
    expect(transform(template).value).toEqual({
      instance: 'i-0123456789',
      state: 'RUNNING',
      instanceStatus: 'instance "i-0123456789" is in RUNNING',
    });
  });

  it('JSON with a mix of variables and static information', () => {
    expect(
      transform('{"instance" : <instance>, "state": [ 9, <state>, true ], "Transformed" : "Yes"}').value,
    ).toEqual({
      instance: 'i-0123456789',
      state: [9, 'RUNNING', true],
      Transformed: 'Yes',
    });
  });

  it('reserved variables in JSON', () => {
    const template =
      '{"instance": <instance>, "state": <state>, "ruleArn": <aws.events.rule-arn>, "ruleName": <aws.events.rule-name>, ' +
      '"originalEvent": <aws.events.event>, "full": <aws.events.event.json>, "at": <aws.events.event.ingestion-time>}';
    const { detail: _detail, ...envelope } = EVENT;
    expect(transform(template).value).toEqual({
      instance: 'i-0123456789',
      state: 'RUNNING',
      ruleArn: CONTEXT.ruleArn,
      ruleName: 'example',
      originalEvent: envelope,
      full: EVENT,
      at: EVENT.time,
    });
  });

  it('reserved variables in a string', () => {
    expect(transform('"<aws.events.rule-name> triggered"').value).toBe('example triggered');
  });

  it('a text template (not JSON) is sent as raw text', () => {
    const out = transform('<instance> is in state <state>');
    expect(out.body).toBe('i-0123456789 is in state RUNNING');
    expect(out.value).toBe('i-0123456789 is in state RUNNING');
  });
});

describe('InputTransformer semantics', () => {
  it('objects and arrays keep their type as JSON values and lose their inner quotes inside strings', () => {
    const out = transform('{"d": <d>, "text": "detail is <d>", "r": <r>}', {
      d: '$.detail',
      r: '$.resources',
    });
    expect(out.value).toEqual({
      d: EVENT.detail,
      text: 'detail is {instance-id:i-0123456789,state:RUNNING}',
      r: EVENT.resources,
    });
  });

  it('numbers, booleans and null keep their JSON type', () => {
    const event = { detail: { n: 3.5, b: false, z: null } };
    const out = transform(
      '{"n": <n>, "b": <b>, "z": <z>}',
      { n: '$.detail.n', b: '$.detail.b', z: '$.detail.z' },
      event,
    );
    expect(out.value).toEqual({ n: 3.5, b: false, z: null });
  });

  it('a variable whose path is missing is null as a value and empty inside text', () => {
    const out = transform('{"v": <gone>, "t": "x<gone>y"}', { gone: '$.detail.nothing' });
    expect(out.value).toEqual({ v: null, t: 'xy' });
    expect(transform('a<gone>b', { gone: '$.nope' }).body).toBe('ab');
  });

  it('values with quotes, backslashes and newlines never break the JSON', () => {
    const event = { detail: { msg: 'say "hi"\\\n<b>' } };
    const out = transform('{"m": "<m>!", "v": <m>}', { m: '$.detail.msg' }, event);
    expect(out.value).toEqual({ m: 'say "hi"\\\n<b>!', v: 'say "hi"\\\n<b>' });
  });

  it('wildcard paths yield arrays', () => {
    const event = { detail: { alerts: [{ name: 'a' }, { name: 'b' }] } };
    expect(transform('{"names": <n>}', { n: '$.detail.alerts[*].name' }, event).value).toEqual({
      names: ['a', 'b'],
    });
  });

  it('text outside placeholders, including "<" that is not a placeholder, is kept', () => {
    expect(transform('{"cmp": "a < b", "x": <state>}').value).toEqual({ cmp: 'a < b', x: 'RUNNING' });
  });
});

describe('Input and InputPath', () => {
  it('no setting passes the whole event', () => {
    const out = compileTargetInput(undefined).apply(EVENT, CONTEXT);
    expect(out.value).toBe(EVENT);
    expect(JSON.parse(out.body)).toEqual(EVENT);
  });

  it('Input is constant JSON text, sent as written', () => {
    const out = compileTargetInput({ Input: '{ "runbook": "restart" }' }).apply(EVENT, CONTEXT);
    expect(out).toEqual({ value: { runbook: 'restart' }, body: '{ "runbook": "restart" }' });
  });

  it('InputPath selects part of the event', () => {
    expect(compileTargetInput({ InputPath: '$.detail' }).apply(EVENT, CONTEXT).value).toEqual(EVENT.detail);
    expect(compileTargetInput({ InputPath: '$.resources[0]' }).apply(EVENT, CONTEXT).value).toBe(
      EVENT.resources[0],
    );
    expect(compileTargetInput({ InputPath: '$' }).apply(EVENT, CONTEXT).value).toEqual(EVENT);
    expect(compileTargetInput({ InputPath: '$.missing' }).apply(EVENT, CONTEXT)).toEqual({
      value: null,
      body: 'null',
    });
  });
});

describe('invalid target input settings are rejected when rules load', () => {
  const cases: [string, unknown, string][] = [
    ['two settings', { Input: '{}', InputPath: '$' }, 'at most one of'],
    ['unknown key', { InputPaths: '$' }, 'Unrecognized key'],
    ['Input not JSON', { Input: '{nope' }, 'Input must be valid JSON'],
    ['InputPath without $', { InputPath: 'detail' }, 'must start with "$"'],
    ['InputPath filter', { InputPath: '$.detail[?(@.x)]' }, 'not supported'],
    ['InputPath script', { InputPath: '$..detail' }, 'not supported'],
    ['InputPath bracket name', { InputPath: "$['detail']" }, 'not supported'],
    [
      'undefined placeholder',
      { InputTransformer: { InputPathsMap: {}, InputTemplate: '{"a": <nope>}' } },
      'placeholder <nope> is not defined',
    ],
    [
      'template not valid JSON',
      { InputTransformer: { InputPathsMap: { a: '$.a' }, InputTemplate: '{"a": <a>' } },
      'not valid JSON once placeholders are filled',
    ],
    [
      'placeholder as a key',
      { InputTransformer: { InputPathsMap: { a: '$.a' }, InputTemplate: '{"<a>": 1}' } },
      'object key',
    ],
    [
      'event JSON inside a string',
      { InputTransformer: { InputTemplate: '{"e": "<aws.events.event.json>"}' } },
      'only be used as the value of a JSON field',
    ],
    [
      'event inside a text template',
      { InputTransformer: { InputTemplate: 'event <aws.events.event>' } },
      'only be used as the value of a JSON field',
    ],
    [
      'bad variable name',
      { InputTransformer: { InputPathsMap: { 'a.b': '$.a' }, InputTemplate: '"x"' } },
      'variable names may use only',
    ],
    [
      'too many variables',
      {
        InputTransformer: {
          InputPathsMap: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`v${i}`, '$.a'])),
          InputTemplate: '"x"',
        },
      },
      'at most 100 variables',
    ],
    [
      'bad path in the map',
      { InputTransformer: { InputPathsMap: { a: 'a' }, InputTemplate: '"<a>"' } },
      'must start',
    ],
  ];
  it.each(cases)('%s', (_name, spec, reason) => {
    expect(() => compileTargetInput(spec as TargetInputSpec)).toThrow(InvalidTargetInputError);
    expect(() => compileTargetInput(spec as TargetInputSpec)).toThrow(reason);
  });

  it('names where the problem is', () => {
    try {
      compileTargetInput(
        { InputTransformer: { InputPathsMap: { a: 'x' }, InputTemplate: '"<a>"' } },
        'rules[2].targets[0]',
      );
      expect.unreachable();
    } catch (err) {
      expect((err as InvalidTargetInputError).path).toBe(
        'rules[2].targets[0].InputTransformer.InputPathsMap.a',
      );
      expect((err as InvalidTargetInputError).code).toBe('INVALID_CONFIG');
    }
  });
});
