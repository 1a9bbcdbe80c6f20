import type { IncidentProjector } from '../../incidents/projector.ts';
import type { IncidentStore } from '../../incidents/port.ts';
import type { CoreMetrics } from '../../telemetry/metrics.ts';
import type { DeliveryItem, Target } from './target.ts';

/** The incident store as a bus target: alert events open, update and resolve incidents (in batches). */
export function incidentsTarget(deps: {
  projector: IncidentProjector;
  store: IncidentStore;
  metrics: CoreMetrics;
  now: () => Date;
}): Target {
  return {
    async deliverBatch(items: readonly DeliveryItem[]) {
      const result = await deps.projector.project(items.map((i) => i.event));
      await deps.store.commit(result.changes);
      deps.metrics.incidentsOpened.inc(result.opened);
      deps.metrics.incidentsResolved.inc(result.resolved);
      const t = deps.now().getTime();
      for (const { event } of items)
        deps.metrics.pipelineLatency.observe((t - Date.parse(event.receivedAt)) / 1000);
    },
  };
}
