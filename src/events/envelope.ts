/**
 * The EventBridge event envelope: the contract every footprint shares (in-process bus, NATS, EventBridge).
 * Rebound adds nothing at the top level; its own metadata lives in `detail` (`correlationId`) and in the
 * stored record beside the envelope.
 */
export interface EventEnvelope<D = Record<string, unknown>> {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: D;
  /** Present (true) only on events re-published from the archive by a replay. */
  readonly 'replay-name'?: string;
}

/** An event as the store keeps it: the envelope plus what Rebound needs to route and deduplicate it. */
export interface StoredEvent {
  readonly envelope: EventEnvelope;
  readonly correlationId: string;
  /** Ingest's idempotency key; equal keys are the same event delivered twice. */
  readonly dedupKey: string;
  /**
   * The idempotency key of a later state of the same thing (an alert's resolution, for a firing copy): once
   * an event with that key is stored, this one arrives out of date and is not stored (`stale`).
   */
  readonly supersededBy?: string;
  readonly receivedAt: string;
}

export const ALERT_DETAIL_TYPE = 'Alertmanager Alert';
export const ALERT_SOURCE = 'rebound.alertmanager';

/** EventBridge's own limit on one event; PutEvents-style producers are held to it too. */
export const MAX_EVENT_BYTES = 256 * 1024;
