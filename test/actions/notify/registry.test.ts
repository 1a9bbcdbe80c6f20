import { describe, expect, it } from 'vitest';
import { notifyConfigSchema } from '../../../src/actions/notify/config.ts';
import { notifyActions } from '../../../src/actions/notify/index.ts';
import { ActionRegistry } from '../../../src/actions/registry.ts';
import { createVerifyActions, verifyConfigSchema } from '../../../src/actions/verify/index.ts';

describe('verify.* and notify.* in the ActionRegistry', () => {
  it('register, list with JSON Schemas, and validate parameters', () => {
    const registry = new ActionRegistry([
      ...createVerifyActions({ config: verifyConfigSchema.parse({}) }),
      ...notifyActions(notifyConfigSchema.parse({})),
    ]);
    const listed = registry.list();
    expect(listed.map((a) => [a.name, a.mutating])).toEqual([
      ['notify.email', false],
      ['notify.pagerduty', false],
      ['notify.slack', false],
      ['notify.webhook', false],
      ['verify.alertResolved', false],
      ['verify.http', false],
      ['verify.query', false],
    ]);
    expect(listed.every((a) => typeof a.params === 'object' && a.params !== null)).toBe(true);
    expect(() => registry.parse('verify.query', { query: 'up', op: '=~', threshold: 1 })).toThrow(
      /invalid parameters for verify.query: op/,
    );
    expect(registry.parse('notify.slack', { incidentId: 'i', title: 't' })).toMatchObject({
      event: 'updated',
      severity: 'warning',
      required: false,
    });
  });
});
