import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface BusMetrics {
  readonly matched: Counter<'rule'>;
  readonly routed: Counter<'path'>;
  readonly delivered: Counter<'target'>;
  readonly failed: Counter<'target'>;
  readonly retried: Counter<'target'>;
  readonly deadLettered: Counter<'target'>;
  readonly queueDepth: Gauge<'target'>;
  readonly dlqDepth: Gauge<'target'>;
  readonly deliveryLatency: Histogram<'target'>;
  readonly eventAge: Histogram<'target'>;
}

export function createBusMetrics(registry: Registry): BusMetrics {
  const registers = [registry];
  const latencyBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
  return {
    matched: new Counter({
      name: 'rebound_bus_matched_total',
      help: 'Events matched, per rule.',
      labelNames: ['rule'],
      registers,
    }),
    routed: new Counter({
      name: 'rebound_bus_routed_total',
      help: 'Events routed: "inline" in the transaction that stored them, "log" read back by a router that was behind.',
      labelNames: ['path'],
      registers,
    }),
    delivered: new Counter({
      name: 'rebound_bus_delivered_total',
      help: 'Deliveries that succeeded, per target (rule/id).',
      labelNames: ['target'],
      registers,
    }),
    failed: new Counter({
      name: 'rebound_bus_failed_total',
      help: 'Delivery attempts that failed, per target.',
      labelNames: ['target'],
      registers,
    }),
    retried: new Counter({
      name: 'rebound_bus_retried_total',
      help: 'Deliveries scheduled for another attempt, per target.',
      labelNames: ['target'],
      registers,
    }),
    deadLettered: new Counter({
      name: 'rebound_bus_dead_lettered_total',
      help: 'Deliveries moved to the DLQ, per target.',
      labelNames: ['target'],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'rebound_bus_queue_depth',
      help: 'Pending deliveries, per target.',
      labelNames: ['target'],
      registers,
    }),
    dlqDepth: new Gauge({
      name: 'rebound_bus_dlq_depth',
      help: 'Dead letters waiting for a redrive, per target.',
      labelNames: ['target'],
      registers,
    }),
    deliveryLatency: new Histogram({
      name: 'rebound_bus_delivery_seconds',
      help: 'Duration of one successful delivery call, per target.',
      labelNames: ['target'],
      buckets: latencyBuckets,
      registers,
    }),
    eventAge: new Histogram({
      name: 'rebound_bus_event_age_seconds',
      help: 'Age of the event (since it was received) when delivered, per target.',
      labelNames: ['target'],
      buckets: latencyBuckets,
      registers,
    }),
  };
}
