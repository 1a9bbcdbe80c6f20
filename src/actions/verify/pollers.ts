import type { AlertmanagerClient } from '../../integrations/alertmanager/client.ts';
import { equalityMatchers } from '../../integrations/alertmanager/matchers.ts';
import type { PrometheusClient } from '../../integrations/prometheus/client.ts';
import { vectorSelector } from '../../integrations/prometheus/promql.ts';
import type { AlertQuery } from './resolved-signal.ts';

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
 * Prometheus decides resolved when no firing series of `ALERTS{alertname, alertstate="firing"}` and no alert
 * listed by `/api/v1/alerts` (a pending one means the condition is true again) agrees with the alert's labels.
 *
 * "Agrees", not "carries all of them": the labels a webhook alert carries include Prometheus' external labels
 * (the Prometheus Operator sets `prometheus` and `prometheus_replica`), which neither ALERTS nor
 * `/api/v1/alerts` has. Selecting on every label would find nothing and call a firing alert resolved.
 */
export function prometheusPoller(client: PrometheusClient): Poller {
  return {
    source: 'prometheus',
    async check(query, signal) {
      const selector = vectorSelector('ALERTS', { alertname: query.alertname, alertstate: 'firing' });
      const firing = (await client.query(selector, { signal })).samples.filter((s) =>
        agrees(query, s.metric),
      );
      if (firing.length > 0) {
        return {
          resolved: false,
          detail: `${firing.length} firing series of ${selector} agree with the alert's labels`,
        };
      }
      const listed = (await client.alerts({ signal })).filter((a) => agrees(query, a.labels));
      if (listed.length > 0) {
        const states = [...new Set(listed.map((a) => a.state))].join(', ');
        return {
          resolved: false,
          detail: `${listed.length} matching alert(s) in /api/v1/alerts (${states})`,
        };
      }
      return {
        resolved: true,
        detail: `no series of ${selector} and no alert in /api/v1/alerts agree with the alert's labels`,
      };
    },
  };
}

/** The same alert name, and no label that both carry with different values. */
export function agrees(query: AlertQuery, labels: Readonly<Record<string, string>>): boolean {
  if (labels['alertname'] !== query.alertname) return false;
  for (const [name, value] of Object.entries(query.labels)) {
    if (name === 'alertname' || name === 'alertstate' || name === '__name__') continue;
    const theirs = labels[name];
    if (theirs !== undefined && theirs !== value) return false;
  }
  return true;
}

/** What the sources answered, asked once about one alert. */
export interface AlertRecheck {
  readonly resolved: boolean;
  /** Every source that said resolved, or those that said still firing. */
  readonly sources: readonly Exclude<ResolutionSource, 'webhook'>[];
}

/**
 * Asks every poller once whether an alert Rebound believes firing has resolved; undefined when none could
 * answer (no source configured, or each failed), so the caller keeps what it knew. Resolved only when every
 * source that answered says so: unlike verification, which waits for a fix to show in any source, this must
 * not let a Prometheus that does not evaluate the alert's rule (a Thanos ruler's, another Prometheus')
 * overrule an Alertmanager that still lists it.
 */
export async function recheckAlert(
  pollers: readonly Poller[],
  query: AlertQuery,
  signal: AbortSignal,
): Promise<AlertRecheck | undefined> {
  const answers = await Promise.all(
    pollers.map((p) =>
      p.check(query, signal).then(
        (answer) => ({ source: p.source, resolved: answer.resolved }),
        () => undefined,
      ),
    ),
  );
  const answered = answers.filter((a) => a !== undefined);
  if (answered.length === 0) return undefined;
  const firing = answered.filter((a) => !a.resolved);
  return firing.length === 0
    ? { resolved: true, sources: answered.map((a) => a.source) }
    : { resolved: false, sources: firing.map((a) => a.source) };
}
