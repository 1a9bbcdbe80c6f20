import { describe, expect, it } from 'vitest';
import { ResolvedAlertHub } from '../../../src/actions/verify/resolved-signal.ts';

const t = (s: number) => new Date(Date.UTC(2024, 0, 1, 0, 0, s));
const query = { alertname: 'HighErrorRate', labels: { service: 'checkout' } };

describe('ResolvedAlertHub', () => {
  it('wakes a waiter when a matching alert resolves', async () => {
    const hub = new ResolvedAlertHub();
    hub.notifyFiring({ alertname: 'HighErrorRate', service: 'checkout', pod: 'a' }, t(0));
    const waiting = hub.waitForResolved(query, new AbortController().signal);
    hub.notifyResolved({ alertname: 'HighErrorRate', service: 'cart' }, t(1)); // other service: ignored
    expect(hub.waiting).toBe(1);
    hub.notifyResolved({ alertname: 'HighErrorRate', service: 'checkout', pod: 'a' }, t(2));
    expect(await waiting).toEqual({ at: t(2) });
    expect(hub.waiting).toBe(0);
  });

  it('waits while another matching series is still firing', async () => {
    const hub = new ResolvedAlertHub();
    hub.notifyFiring({ alertname: 'HighErrorRate', service: 'checkout', pod: 'a' }, t(0));
    hub.notifyFiring({ alertname: 'HighErrorRate', service: 'checkout', pod: 'b' }, t(0));
    let done: Date | undefined;
    const waiting = hub.waitForResolved(query, new AbortController().signal).then((r) => (done = r.at));
    hub.notifyResolved({ alertname: 'HighErrorRate', service: 'checkout', pod: 'a' }, t(3));
    await Promise.resolve();
    expect(done).toBeUndefined();
    hub.notifyResolved({ alertname: 'HighErrorRate', service: 'checkout', pod: 'b' }, t(4));
    await waiting;
    expect(done).toEqual(t(4));
  });

  it('answers at once from a remembered resolution, unless it is older than since or fired again', async () => {
    const hub = new ResolvedAlertHub();
    hub.observe({
      status: 'resolved',
      labels: { alertname: 'HighErrorRate', service: 'checkout' },
      startsAt: t(0).toISOString(),
      endsAt: t(5).toISOString(),
    });
    const signal = new AbortController().signal;
    expect(await hub.waitForResolved(query, signal)).toEqual({ at: t(5) });
    const controller = new AbortController();
    const old = hub.waitForResolved({ ...query, since: t(6) }, controller.signal);
    controller.abort(new Error('deadline'));
    await expect(old).rejects.toThrow('deadline');
    hub.observe({
      status: 'firing',
      labels: { alertname: 'HighErrorRate', service: 'checkout' },
      startsAt: t(7).toISOString(),
      endsAt: '0001-01-01T00:00:00Z',
    });
    const again = new AbortController();
    const refired = hub.waitForResolved(query, again.signal);
    again.abort(new Error('stop'));
    await expect(refired).rejects.toThrow('stop');
    expect(hub.waiting).toBe(0);
  });

  it('forgets the oldest label sets beyond its bound', async () => {
    const hub = new ResolvedAlertHub({ maxRemembered: 2 });
    hub.notifyResolved({ alertname: 'A' }, t(1));
    hub.notifyResolved({ alertname: 'B' }, t(2));
    hub.notifyResolved({ alertname: 'C' }, t(3));
    const controller = new AbortController();
    const forgotten = hub.waitForResolved({ alertname: 'A', labels: {} }, controller.signal);
    controller.abort(new Error('forgotten'));
    await expect(forgotten).rejects.toThrow('forgotten');
    expect(await hub.waitForResolved({ alertname: 'C', labels: {} }, new AbortController().signal)).toEqual({
      at: t(3),
    });
  });
});
