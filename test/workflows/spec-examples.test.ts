// Scenarios modelled on the examples of the States Language specification (states-language.net), with
// their inputs and the outputs the specification describes.
import { describe, expect, it } from 'vitest';
import { run } from './support.ts';

describe('States Language specification examples', () => {
  it('ResultPath merges a result into the input ("Result" of a Pass state)', async () => {
    const def = {
      StartAt: 'X',
      States: {
        X: { Type: 'Pass', Result: { x: 0.381018, y: 622.2269926397355 }, ResultPath: '$.coords', End: true },
      },
    };
    expect((await run(def, { 'x-datum': 0.381018, 'y-datum': 622.2269926397355 })).output).toEqual({
      'x-datum': 0.381018,
      'y-datum': 622.2269926397355,
      coords: { x: 0.381018, y: 622.2269926397355 },
    });
  });

  it('InputPath, ResultPath and OutputPath together (the spec\'s "title" example)', async () => {
    const def = {
      StartAt: 'T',
      States: {
        T: {
          Type: 'Task',
          Resource: 'sum',
          InputPath: '$.lib',
          ResultPath: '$.lib.total',
          OutputPath: '$.lib',
          End: true,
        },
      },
    };
    const r = await run(
      def,
      { title: 'Numbers to add', lib: { val1: 3, val2: 4 } },
      {
        sum: (i) => (i as { val1: number; val2: number }).val1 + (i as { val1: number; val2: number }).val2,
      },
    );
    expect(r.output).toEqual({ val1: 3, val2: 4, total: 7 });
  });

  it('Choice with And, Not and a timestamp rule routes like the spec describes', async () => {
    const def = {
      StartAt: 'ChoiceStateX',
      States: {
        ChoiceStateX: {
          Type: 'Choice',
          Choices: [
            { Not: { Variable: '$.type', StringEquals: 'Private' }, Next: 'Public' },
            {
              And: [
                { Variable: '$.value', IsPresent: true },
                { Variable: '$.value', IsNumeric: true },
                { Variable: '$.value', NumericGreaterThanEquals: 20 },
                { Variable: '$.value', NumericLessThan: 30 },
              ],
              Next: 'ValueInTwenties',
            },
            { Variable: '$.rating', NumericGreaterThanPath: '$.auditThreshold', Next: 'StartAudit' },
          ],
          Default: 'RecordEvent',
        },
        Public: { Type: 'Pass', Result: 'Public', End: true },
        ValueInTwenties: { Type: 'Pass', Result: 'ValueInTwenties', End: true },
        StartAudit: { Type: 'Pass', Result: 'StartAudit', End: true },
        RecordEvent: { Type: 'Pass', Result: 'RecordEvent', End: true },
      },
    };
    expect((await run(def, { type: 'Public' })).output).toBe('Public');
    expect((await run(def, { type: 'Private', value: 25 })).output).toBe('ValueInTwenties');
    expect((await run(def, { type: 'Private', value: 35, rating: 55, auditThreshold: 50 })).output).toBe(
      'StartAudit',
    );
    expect((await run(def, { type: 'Private', value: 35, rating: 5, auditThreshold: 50 })).output).toBe(
      'RecordEvent',
    );
  });

  it('Map with ItemSelector and the context object (the spec\'s "ship-date" example)', async () => {
    const def = {
      StartAt: 'Validate-All',
      States: {
        'Validate-All': {
          Type: 'Map',
          InputPath: '$.detail',
          ItemsPath: '$.shipped',
          MaxConcurrency: 0,
          ItemSelector: { 'parcel.$': '$$.Map.Item.Value', 'courier.$': '$.delivery-partner' },
          ItemProcessor: {
            StartAt: 'Validate',
            States: { Validate: { Type: 'Task', Resource: 'validate', End: true } },
          },
          ResultPath: '$.detail.shipped',
          End: true,
        },
      },
    };
    const input = {
      'ship-date': '2016-03-14T01:59:00Z',
      detail: {
        'delivery-partner': 'UQS',
        shipped: [
          { prod: 'R31', 'dest-code': 9511, quantity: 1344 },
          { prod: 'S39', 'dest-code': 9511, quantity: 40 },
        ],
      },
    };
    const r = await run(def, input, {
      validate: (i) => ({ ok: (i as { courier: string }).courier === 'UQS' }),
    });
    expect(r.output).toEqual({
      ...input,
      detail: { ...input.detail, shipped: [{ ok: true }, { ok: true }] },
    });
  });

  it('Parallel branches get the same input and produce an array (the "LookupCustomerInfo" example)', async () => {
    const def = {
      StartAt: 'LookupCustomerInfo',
      States: {
        LookupCustomerInfo: {
          Type: 'Parallel',
          Branches: [
            {
              StartAt: 'LookupAddress',
              States: { LookupAddress: { Type: 'Task', Resource: 'address', End: true } },
            },
            {
              StartAt: 'LookupPhone',
              States: { LookupPhone: { Type: 'Task', Resource: 'phone', End: true } },
            },
          ],
          End: true,
        },
      },
    };
    const r = await run(
      def,
      { id: 7 },
      { address: (i) => ({ street: `s${(i as { id: number }).id}` }), phone: () => '555' },
    );
    expect(r.output).toEqual([{ street: 's7' }, '555']);
  });

  it("a Fail state after a caught error and the spec's Retry example fields", async () => {
    let calls = 0;
    const def = {
      StartAt: 'X',
      States: {
        X: {
          Type: 'Task',
          Resource: 'flaky',
          Retry: [
            { ErrorEquals: ['ErrorA', 'ErrorB'], IntervalSeconds: 1, BackoffRate: 2, MaxAttempts: 0 },
            { ErrorEquals: ['ErrorC'], IntervalSeconds: 1, MaxAttempts: 0 },
          ],
          Catch: [
            { ErrorEquals: ['ErrorA', 'ErrorB'], Next: 'Z', ResultPath: '$.error' },
            { ErrorEquals: ['States.ALL'], Next: 'Y' },
          ],
          End: true,
        },
        Y: { Type: 'Fail', Error: 'CatchAll', Cause: 'caught by States.ALL' },
        Z: { Type: 'Pass', End: true },
      },
    };
    const fail = (name: string) => () => (calls++, Promise.reject(Object.assign(new Error(name), { name })));
    expect((await run(def, {}, { flaky: fail('ErrorB') })).output).toEqual({
      error: { Error: 'ErrorB', Cause: 'ErrorB' },
    });
    expect(await run(def, {}, { flaky: fail('Other') })).toMatchObject({
      status: 'FAILED',
      error: 'CatchAll',
    });
    expect(calls).toBe(2);
  });
});
