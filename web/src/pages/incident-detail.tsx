import { doing, useActivity } from '../activity.ts';
import { api } from '../api.ts';
import {
  ActionButton,
  Badge,
  JsonBlock,
  Loading,
  Section,
  useResource,
  type Tone,
} from '../components/ui.tsx';
import { ago, safeHref, time } from '../format.ts';
import { useLive } from '../live.ts';
import type { DashboardInfo, Incident, IncidentAlert, TimelineEntry } from '../types.ts';
import { SEVERITY_TONE, STATUS_TONE } from './incidents.tsx';

interface Detail {
  readonly incident: Incident;
  readonly alerts: IncidentAlert[];
  readonly timeline: TimelineEntry[];
}

const KIND_TONE: Partial<Record<TimelineEntry['kind'], Tone>> = {
  'guard.verdict': 'warn',
  action: 'info',
  execution: 'busy',
  'alert.resolved': 'good',
  'alert.firing': 'bad',
  notification: 'neutral',
};

/** Labels every timeline entry so shadow requests and refusals stand out. */
function entryTag(entry: TimelineEntry): { label: string; tone: Tone } {
  const data = (entry.data ?? {}) as { outcome?: string };
  if (entry.kind === 'action' && data.outcome === 'shadow') return { label: 'shadow request', tone: 'info' };
  if (entry.kind === 'guard.verdict')
    return {
      label: `guard: ${data.outcome ?? 'verdict'}`,
      tone: data.outcome === 'refused' ? 'bad' : 'warn',
    };
  return { label: entry.kind, tone: KIND_TONE[entry.kind] ?? 'neutral' };
}

/** A PromQL / Alertmanager matcher value: a double-quoted string with its escapes. */
function quoted(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function alertmanagerLink(base: string, alert: IncidentAlert): string {
  const matchers = `{alertname=${quoted(alert.alertname)}}`;
  return `${base.replace(/\/+$/, '')}/#/alerts?filter=${encodeURIComponent(matchers)}`;
}

/**
 * For an alert that carries no generator URL: a graph of its `ALERTS` series, in the link format Prometheus
 * itself uses. Matched on alertname and namespace only: other labels may be external labels (cluster,
 * replica) that the alert carries but the series inside Prometheus does not.
 */
function prometheusAlertsLink(base: string, alert: IncidentAlert): string {
  const namespace = alert.labels['namespace'];
  const matchers = [
    `alertname=${quoted(alert.alertname)}`,
    ...(namespace ? [`namespace=${quoted(namespace)}`] : []),
  ];
  const expr = `ALERTS{${matchers.join(',')}}`;
  return `${base.replace(/\/+$/, '')}/graph?g0.expr=${encodeURIComponent(expr)}&g0.tab=0`;
}

/**
 * An alert's links: its own generator URL (or else its ALERTS series in the configured Prometheus), the
 * configured Alertmanager, its runbook_url. Links from alert data are http(s) only.
 */
function AlertLinks(props: { alert: IncidentAlert; links: DashboardInfo['links'] }) {
  const { alert, links } = props;
  const generator = safeHref(alert.generatorURL);
  const runbook = safeHref(alert.annotations['runbook_url']);
  return (
    <>
      {generator ? (
        <a href={generator} target="_blank" rel="noopener noreferrer">
          Prometheus
        </a>
      ) : (
        links.prometheus && (
          <a
            href={prometheusAlertsLink(links.prometheus, alert)}
            target="_blank"
            rel="noopener noreferrer"
            title="The alert's ALERTS series (the alert names no generator URL)"
          >
            Prometheus
          </a>
        )
      )}
      {links.alertmanager && (
        <a href={alertmanagerLink(links.alertmanager, alert)} target="_blank" rel="noopener noreferrer">
          Alertmanager
        </a>
      )}
      {runbook && (
        <a href={runbook} target="_blank" rel="noopener noreferrer">
          Runbook doc
        </a>
      )}
    </>
  );
}

export function IncidentDetailPage(props: { id: string }) {
  const path = `/v1/incidents/${encodeURIComponent(props.id)}`;
  const detail = useResource(() => api<Detail>('GET', path), [path]);
  const info = useResource(() => api<DashboardInfo>('GET', '/v1/dashboard'), []);
  useLive(['incident', 'execution'], (id) => {
    if (id === '*' || id === props.id) detail.reload();
  });
  const activity = useActivity();
  const d = detail.data;
  if (!d) return <Loading resource={detail} />;
  const { incident } = d;
  const executions = [
    ...new Map(
      d.timeline
        .filter((t) => t.kind === 'execution')
        .map((t) => t.data as { executionId: string; runbook: string; status: string })
        .map((e) => [e.executionId, e]),
    ).values(),
  ];
  const links = info.data?.links ?? {};
  const resolved = incident.status === 'resolved';

  return (
    <div class="page">
      <p class="crumbs">
        <a href="/incidents">Incidents</a> / {incident.id}
      </p>
      <h1>{incident.title}</h1>
      <div class="facts">
        <Badge tone={STATUS_TONE[incident.status]}>{incident.status}</Badge>
        <Badge tone={SEVERITY_TONE[incident.severity]}>{incident.severity}</Badge>
        <span>service {incident.service ?? '–'}</span>
        <span>namespace {incident.namespace ?? '–'}</span>
        <span>cluster {incident.cluster ?? '–'}</span>
        <span title={incident.openedAt}>opened {ago(incident.openedAt)}</span>
        <span>Rebound is: {doing(incident, activity)}</span>
      </div>
      <div class="toolbar">
        <ActionButton
          label="Acknowledge"
          role="operator"
          tone="primary"
          disabled={resolved || incident.status === 'acknowledged'}
          disabledReason={resolved ? 'already resolved' : 'already acknowledged'}
          run={() => api('POST', `${path}/acknowledge`, { comment: 'from the dashboard' })}
          onDone={detail.reload}
        />
        <ActionButton
          label="Resolve"
          role="operator"
          disabled={resolved}
          disabledReason="already resolved"
          run={() => api('POST', `${path}/resolve`, { comment: 'from the dashboard' })}
          onDone={detail.reload}
        />
      </div>

      <Section title="Runbooks" id="h-runbooks">
        {executions.length === 0 ? (
          <p class="muted">No runbook has run for this incident.</p>
        ) : (
          <ul class="plain">
            {executions.map((e) => (
              <li key={e.executionId}>
                <a href={`/executions/${encodeURIComponent(e.executionId)}`}>{e.runbook}</a>{' '}
                <Badge tone="neutral">{e.status}</Badge>
              </li>
            ))}
          </ul>
        )}
      </Section>

      <Section title={`Correlated alerts (${d.alerts.length})`} id="h-alerts">
        <table class="list" aria-label="Correlated alerts">
          <thead>
            <tr>
              <th scope="col">Alert</th>
              <th scope="col">Status</th>
              <th scope="col">Since</th>
              <th scope="col">Summary</th>
              <th scope="col">Links</th>
            </tr>
          </thead>
          <tbody>
            {d.alerts.map((a) => (
              <tr key={a.fingerprint}>
                <td data-label="Alert">
                  <strong>{a.alertname}</strong>
                  <div class="labels">
                    {Object.entries(a.labels).map(([k, v]) => (
                      <code key={k}>
                        {k}={v}
                      </code>
                    ))}
                  </div>
                </td>
                <td data-label="Status">
                  <Badge tone={a.status === 'firing' ? 'bad' : 'good'}>{a.status}</Badge>
                </td>
                <td data-label="Since" title={a.startsAt}>
                  {time(a.startsAt)}
                </td>
                <td data-label="Summary">
                  {a.annotations['summary'] ?? a.annotations['description'] ?? '–'}
                </td>
                <td data-label="Links" class="links">
                  <AlertLinks alert={a} links={links} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>

      <Section title="Timeline" id="h-timeline">
        <ol class="timeline" aria-label="Timeline">
          {d.timeline.map((t) => {
            const tag = entryTag(t);
            return (
              <li key={t.seq} class={`tl tl-${t.kind.replace('.', '-')}`}>
                <div class="tl-head">
                  <time dateTime={t.at}>{time(t.at)}</time>
                  <Badge tone={tag.tone}>{tag.label}</Badge>
                  <span class="actor">{t.actor}</span>
                </div>
                <p>{t.description}</p>
                {t.data !== null && <JsonBlock label="details" value={t.data} />}
              </li>
            );
          })}
        </ol>
      </Section>
    </div>
  );
}
