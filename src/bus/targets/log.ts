import type { Logger } from '../../telemetry/logger.ts';
import type { DeliveryItem, Target } from './target.ts';

/** The structured audit log as a target: one JSON line per event, with its correlation id. */
export function logTarget(logger: Logger, level: 'info' | 'warn'): Target {
  const audit = logger.child({ component: 'audit' });
  return {
    async deliver({ delivery, event, input }: DeliveryItem) {
      audit[level](
        {
          correlationId: event.correlationId,
          eventId: event.envelope.id,
          rule: delivery.rule,
          input: input.value,
        },
        `event ${event.envelope['detail-type']} from ${event.envelope.source}`,
      );
    },
  };
}
