import type { AlertmanagerClient } from '../../integrations/alertmanager/client.ts';
import { equalityMatchers } from '../../integrations/alertmanager/matchers.ts';
import type { PrometheusClient } from '../../integrations/prometheus/client.ts';
import { vectorSelector } from '../../integrations/prometheus/promql.ts';
import { matches, type AlertQuery } from './resolved-signal.ts';

export type ResolutionSource = 'webhook' | 'alertmanager' | 'prometheus';

export interface PollAnswer {
  readonly resolved: boolean;
  /** What the source said, for the check log (e.g. "2 firing series in ALERTS"). */
  readonly detail: string;
}

/** A source asked again and again until it says the alert is gone. */
export interface Poller {
  readonly source: Exclude<ResolutionSource, 'webhook'>;
  /** Asks the source once whether every alert matching `query` has resolved. */
  check(query: AlertQuery, signal: AbortSignal): Promise<PollAnswer>;
}

/** Alertmanager drops resolved alerts from `GET /api/v2/alerts`: absent (silenced or not) means resolved. */
export function alertmanagerPoller(client: AlertmanagerClient): Poller {
  return {
    source: 'alertmanager',
    async check(query, signal) {
      const filter = equalityMatchers({ ...query.labels, alertname: query.alertname });
      const alerts = await client.listAlerts({ filter, signal });
      if (alerts.length === 0) return { resolved: true, detail: 'no matching alert in /api/v2/alerts' };
      const states = [...new Set(alerts.map((a) => a.status.state))].join(', ');
      return { resolved: false, detail: `${alerts.length} matching alert(s) in /api/v2/alerts (${states})` };
    },
  };
}

/**
 * Prometheus decides resolved when `ALERTS{alertname, alertstate="firing", …labels}` is empty and no matching
 * alert is listed by `/api/v1/alerts` — a pending alert there means the condition is true again.
 */
export function prometheusPoller(client: PrometheusClient): Poller {
  return {
    source: 'prometheus',
    async check(query, signal) {
      const selector = vectorSelector('ALERTS', {
        alertname: query.alertname,
        alertstate: 'firing',
        ...without(query.labels),
      });
      const firing = await client.query(selector, { signal });
      if (firing.samples.length > 0) {
        return { resolved: false, detail: `${firing.samples.length} firing series for ${selector}` };
      }
      const listed = (await client.alerts({ signal })).filter((a) => matches(query, a.labels));
      if (listed.length > 0) {
        const states = [...new Set(listed.map((a) => a.state))].join(', ');
        return {
          resolved: false,
          detail: `${listed.length} matching alert(s) in /api/v1/alerts (${states})`,
        };
      }
      return { resolved: true, detail: `${selector} is empty and no matching alert in /api/v1/alerts` };
    },
  };
}

// `alertname` and `alertstate` come from the query itself; a label of the same name must not override them.
function without(labels: Readonly<Record<string, string>>): Record<string, string> {
  const rest: Record<string, string> = {};
  for (const [name, value] of Object.entries(labels)) {
    if (name !== 'alertname' && name !== 'alertstate') rest[name] = value;
  }
  return rest;
}
