import { notificationSchema, type Notification } from '../../../src/actions/notify/notification.ts';

/** The seed's main story, after a successful remediation. */
export function remediated(overrides: Record<string, unknown> = {}): Notification {
  return notificationSchema.parse({
    incidentId: 'inc-01JABCDEF',
    event: 'remediated',
    title: 'HighErrorRate on checkout',
    severity: 'warning',
    status: 'resolved',
    service: 'checkout',
    namespace: 'shop',
    cluster: 'prod-eu',
    description: 'Error ratio 7.2% > 5% for 2m',
    labels: { alertname: 'HighErrorRate', service: 'checkout', severity: 'warning' },
    links: {
      dashboard: 'https://grafana.example.org/d/checkout',
      prometheus: 'https://prometheus.example.org/graph?g0.expr=x',
      runbook: 'https://rebound.example.org/runbooks/high-error-rate',
      incident: 'https://rebound.example.org/incidents/inc-01JABCDEF',
    },
    actions: [
      { name: 'config.set degraded-mode=on', outcome: 'succeeded' },
      { name: 'k8s.restart deployment/checkout', outcome: 'succeeded', detail: '3/3 ready in 41s' },
    ],
    result: 'verified: alert resolved (webhook) 52 s after the restart',
    occurredAt: '2024-05-01T12:00:00Z',
    ...overrides,
  });
}

export const ROUTING_KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
export const WEBHOOK_SECRET = 'a-shared-secret-of-at-least-32-chars!';
