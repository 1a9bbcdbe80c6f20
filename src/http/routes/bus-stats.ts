import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Bus } from '../../bus/bus.ts';
import type { DeliveryStore } from '../../bus/port.ts';
import type { BusStats } from '../views.ts';

/** Sums of a labelled counter by one label, read from the Prometheus registry (what /metrics shows). */
async function byLabel(registry: Registry, metric: string, label: string): Promise<Map<string, number>> {
  const found = registry.getSingleMetric(metric);
  const out = new Map<string, number>();
  if (!found) return out;
  for (const v of (await found.get()).values) {
    const key = String(v.labels[label] ?? '');
    out.set(key, (out.get(key) ?? 0) + v.value);
  }
  return out;
}

/**
 * `GET /v1/bus/stats`: every rule with its match count and every target with its delivery counters (since
 * the process started) and current queue and DLQ depths, for the dashboard's Operations page.
 */
export function registerBusStatsRoutes(
  app: FastifyInstance,
  deps: { bus: Bus; deliveries: DeliveryStore; registry: Registry; countingSince: Date },
): void {
  const countingSince = deps.countingSince.toISOString();
  app.get('/v1/bus/stats', { config: { role: 'viewer' } }, async (): Promise<BusStats> => {
    const [matched, delivered, failed, retried, deadLettered, depths, dlq] = await Promise.all([
      byLabel(deps.registry, 'rebound_bus_matched_total', 'rule'),
      byLabel(deps.registry, 'rebound_bus_delivered_total', 'target'),
      byLabel(deps.registry, 'rebound_bus_failed_total', 'target'),
      byLabel(deps.registry, 'rebound_bus_retried_total', 'target'),
      byLabel(deps.registry, 'rebound_bus_dead_lettered_total', 'target'),
      deps.deliveries.depths(),
      deps.deliveries.deadLetterDepths(),
    ]);
    return {
      countingSince,
      rules: [...deps.bus.ruleSet.rules.values()].map((r) => ({
        name: r.name,
        description: r.config.description ?? null,
        enabled: r.enabled,
        matched: matched.get(r.name) ?? 0,
        targets: r.targets.map((t) => ({
          name: t.name,
          kind: t.config.kind,
          delivered: delivered.get(t.name) ?? 0,
          failed: failed.get(t.name) ?? 0,
          retried: retried.get(t.name) ?? 0,
          deadLettered: deadLettered.get(t.name) ?? 0,
          queueDepth: depths.get(t.name) ?? 0,
          dlqDepth: dlq.get(t.name) ?? 0,
        })),
      })),
    };
  });
}
