import type { StoredEvent } from '../../src/events/envelope.ts';

/**
 * Stored event number `n` (its id and dedup key derive from `n`), as the event-log tests append them. Its
 * detail holds `Infinity`, which JSON stores as `null`: what a reader gets back is what the database holds.
 */
export function tickEvent(n: number, time = '2026-11-26T04:00:00.000Z', receivedAt = time): StoredEvent {
  const id = `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`;
  return {
    envelope: {
      version: '0',
      id,
      'detail-type': 'tick',
      source: 'test',
      account: '000000000000',
      time,
      region: 'local',
      resources: [],
      detail: { n, big: Number.POSITIVE_INFINITY },
    },
    correlationId: `corr-${n}`,
    dedupKey: id,
    receivedAt,
  };
}
