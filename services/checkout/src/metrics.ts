import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ChaosSettings } from './chaos.ts';

/**
 * The service's Prometheus metrics, on a registry of its own so several servers can live in one process
 * (tests) without clashing. The alert rules in deploy/prometheus/ and the SLO definition depend on these
 * names and labels: change them together.
 */
export interface CheckoutMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly duration: Histogram<'method' | 'route'>;
  readonly orders: Counter<'mode'>;
  readonly dependencyFailures: Counter;
  readonly configErrors: Counter<'source'>;
  /** Mirrors the chaos knobs so a dashboard shows what was injected next to what it caused. */
  setChaos(settings: ChaosSettings): void;
}

/** Buckets span 5 ms to 10 s: the latency alert's 500 ms threshold sits on a bucket boundary. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The business routes' expected outcomes, exported at zero before the first request. */
const KNOWN_OUTCOMES: readonly (readonly [string, string, string])[] = [
  ['POST', '/checkout', '201'],
  ['POST', '/checkout', '400'],
  ['POST', '/checkout', '402'],
  ['POST', '/checkout', '500'],
  ['POST', '/checkout', '503'],
  ['GET', '/products', '200'],
  ['GET', '/products', '500'],
  ['GET', '/products', '503'],
];

export function createMetrics(labels: { version: string; pod: string | undefined }): CheckoutMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests served, by route template and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by route template.',
    labelNames: ['method', 'route'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const degraded = new Gauge({
    name: 'checkout_degraded_mode',
    help: '1 while degraded mode is on (cached prices, no recommendations), else 0.',
    registers: [registry],
  });
  const errorRate = new Gauge({
    name: 'checkout_chaos_error_rate',
    help: 'Injected dependency failure probability (0-1).',
    registers: [registry],
  });
  const latency = new Gauge({
    name: 'checkout_chaos_latency_seconds',
    help: 'Injected dependency latency in seconds (before jitter).',
    registers: [registry],
  });
  const orders = new Counter({
    name: 'checkout_orders_total',
    help: 'Orders charged, by mode (full or degraded).',
    labelNames: ['mode'] as const,
    registers: [registry],
  });
  const dependencyFailures = new Counter({
    name: 'checkout_dependency_failures_total',
    help: 'Calls to the pricing/recommendation dependency that failed.',
    registers: [registry],
  });
  const configErrors = new Counter({
    name: 'checkout_config_source_errors_total',
    help: 'Failed reads of the degraded-mode flag source (file or ConfigMap).',
    labelNames: ['source'] as const,
    registers: [registry],
  });
  const build = new Gauge({
    name: 'checkout_build_info',
    help: 'Always 1; labels carry the running version and pod.',
    labelNames: ['version', 'pod'] as const,
    registers: [registry],
  });
  build.set({ version: labels.version, pod: labels.pod ?? '' }, 1);
  // Series that exist from the first scrape: a counter born at its first error has no previous sample, so
  // rate() would miss the first scrape interval of a fault and the alert would fire a scrape later.
  for (const [method, route, status] of KNOWN_OUTCOMES) requests.inc({ method, route, status }, 0);
  orders.inc({ mode: 'full' }, 0);
  orders.inc({ mode: 'degraded' }, 0);
  return {
    registry,
    requests,
    duration,
    orders,
    dependencyFailures,
    configErrors,
    setChaos(settings) {
      degraded.set(settings.degradedMode ? 1 : 0);
      errorRate.set(settings.errorRate);
      latency.set(settings.latencyMs / 1000);
    },
  };
}
