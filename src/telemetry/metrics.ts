import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Foundation metrics; each stage registers its own on the same registry. Names are `rebound_*`. */
export interface CoreMetrics {
  readonly registry: Registry;
  readonly alertsReceived: Counter<'status'>;
  readonly duplicates: Counter;
  readonly stale: Counter;
  readonly truncated: Counter;
  readonly rejects: Counter<'reason'>;
  readonly ingestLatency: Histogram;
  readonly storeCommitLatency: Histogram;
  readonly storeCommitUnits: Histogram;
  readonly openIncidents: Gauge;
  readonly incidentsOpened: Counter;
  readonly incidentsResolved: Counter;
  readonly pipelineLatency: Histogram;
}

export function createMetrics(registry = new Registry()): CoreMetrics {
  collectDefaultMetrics({ register: registry, prefix: 'rebound_process_' });
  return {
    registry,
    alertsReceived: new Counter({
      name: 'rebound_alerts_received_total',
      help: 'Alerts accepted from Alertmanager webhooks, by alert status (duplicates included).',
      labelNames: ['status'],
      registers: [registry],
    }),
    duplicates: new Counter({
      name: 'rebound_alerts_duplicate_total',
      help: 'Alerts acknowledged but not stored again: same (fingerprint, startsAt, status) seen before.',
      registers: [registry],
    }),
    stale: new Counter({
      name: 'rebound_alerts_stale_total',
      help: 'Firing alerts acknowledged but not stored: the same alert (fingerprint, startsAt) had already resolved.',
      registers: [registry],
    }),
    truncated: new Counter({
      name: 'rebound_alerts_truncated_total',
      help: "Alerts Alertmanager left out of its notifications (the receiver's max_alerts), as it reported them.",
      registers: [registry],
    }),
    rejects: new Counter({
      name: 'rebound_ingest_rejects_total',
      help: 'Webhook requests refused, by reason (invalid, unauthorized, too_large, overloaded, unsupported).',
      labelNames: ['reason'],
      registers: [registry],
    }),
    ingestLatency: new Histogram({
      name: 'rebound_ingest_latency_seconds',
      help: 'From webhook request received to durable acknowledgement.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    storeCommitLatency: new Histogram({
      name: 'rebound_store_commit_seconds',
      help: 'Duration of one group commit (transaction + fsync).',
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers: [registry],
    }),
    storeCommitUnits: new Histogram({
      name: 'rebound_store_commit_units',
      help: 'Units of work carried by one group commit.',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000],
      registers: [registry],
    }),
    openIncidents: new Gauge({
      name: 'rebound_open_incidents',
      help: 'Incidents that are not resolved.',
      registers: [registry],
    }),
    incidentsOpened: new Counter({
      name: 'rebound_incidents_opened_total',
      help: 'Incidents opened.',
      registers: [registry],
    }),
    incidentsResolved: new Counter({
      name: 'rebound_incidents_resolved_total',
      help: 'Incidents resolved on their own when all alerts resolved.',
      registers: [registry],
    }),
    pipelineLatency: new Histogram({
      name: 'rebound_pipeline_latency_seconds',
      help: 'From event received to its incident change committed.',
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}
