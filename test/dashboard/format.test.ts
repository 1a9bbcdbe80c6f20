import { describe, expect, it } from 'vitest';
import { ago, fromNow, safeHref } from '../../web/src/format.ts';

describe('dashboard time formatting', () => {
  const now = Date.parse('2026-11-26T12:00:00Z');

  it('says how long ago a past time was, and how far ahead a future one is', () => {
    expect(ago('2026-11-26T11:56:00Z', now)).toBe('4m ago');
    expect(fromNow('2026-11-26T12:04:00Z', now)).toBe('in 4m');
    expect(fromNow('2026-11-26T12:00:30Z', now)).toBe('in 30s');
  });

  it('calls a time that has passed "now" rather than a negative wait', () => {
    expect(fromNow('2026-11-26T11:59:00Z', now)).toBe('now');
    expect(fromNow(null, now)).toBe('–');
  });
});

describe('links from alert data', () => {
  it('links http(s) URLs only', () => {
    expect(safeHref('https://prometheus.example.org/graph?g0.expr=up')).toBe(
      'https://prometheus.example.org/graph?g0.expr=up',
    );
    expect(safeHref('javascript:alert(1)')).toBeUndefined();
    expect(safeHref('data:text/html,hi')).toBeUndefined();
    expect(safeHref('/relative')).toBeUndefined();
    expect(safeHref(undefined)).toBeUndefined();
  });
});
