import { useState } from 'preact/hooks';
import { doing, useActivity } from '../activity.ts';
import { api, qs } from '../api.ts';
import { Badge, Loading, useResource, type Tone } from '../components/ui.tsx';
import { ago } from '../format.ts';
import { useLive } from '../live.ts';
import { navigate } from '../router.ts';
import type { Incident, IncidentStatus, Severity } from '../types.ts';

export const STATUS_TONE: Record<IncidentStatus, Tone> = {
  open: 'bad',
  acknowledged: 'warn',
  remediating: 'busy',
  verifying: 'busy',
  escalated: 'bad',
  resolved: 'good',
};
export const SEVERITY_TONE: Record<Severity, Tone> = { critical: 'bad', warning: 'warn', info: 'info' };

const STATUSES: readonly (IncidentStatus | '')[] = [
  '',
  'open',
  'acknowledged',
  'remediating',
  'verifying',
  'escalated',
  'resolved',
];
const ACTIVE = 'open,acknowledged,remediating,verifying,escalated';

export function IncidentsPage(props: { query: URLSearchParams }) {
  const [status, setStatus] = useState(props.query.get('status') ?? 'active');
  const [service, setService] = useState(props.query.get('service') ?? '');
  const [severity, setSeverity] = useState<Severity | ''>('');
  const [search, setSearch] = useState('');
  const list = useResource(
    () =>
      api<{ items: Incident[] }>(
        'GET',
        `/v1/incidents${qs({ status: status === 'active' ? ACTIVE : status, service: service.trim(), limit: 200 })}`,
      ),
    [status, service],
  );
  useLive(['incident'], () => list.reload());
  const activity = useActivity();

  const needle = search.trim().toLowerCase();
  const items = (list.data?.items ?? []).filter(
    (i) =>
      (severity === '' || i.severity === severity) &&
      (needle === '' ||
        i.title.toLowerCase().includes(needle) ||
        i.id.toLowerCase().includes(needle) ||
        Object.values(i.labels).some((v) => v.toLowerCase().includes(needle))),
  );

  return (
    <div class="page">
      <h1>Incidents</h1>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="f-status">Status</label>
          <select
            id="f-status"
            value={status}
            onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}
          >
            <option value="active">active (not resolved)</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s === '' ? 'any' : s}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="f-severity">Severity</label>
          <select
            id="f-severity"
            value={severity}
            onChange={(e) => setSeverity((e.target as HTMLSelectElement).value as Severity | '')}
          >
            <option value="">any</option>
            <option value="critical">critical</option>
            <option value="warning">warning</option>
            <option value="info">info</option>
          </select>
        </div>
        <div class="field">
          <label for="f-service">Service</label>
          <input
            id="f-service"
            value={service}
            placeholder="e.g. checkout"
            onChange={(e) => setService((e.target as HTMLInputElement).value)}
          />
        </div>
        <div class="field grow">
          <label for="f-search">Search</label>
          <input
            id="f-search"
            type="search"
            value={search}
            placeholder="title, id or label value"
            onInput={(e) => setSearch((e.target as HTMLInputElement).value)}
          />
        </div>
      </form>
      <Loading resource={list} />
      {list.data && items.length === 0 && <p class="muted">No incidents match.</p>}
      {items.length > 0 && (
        <table class="list" aria-label="Incidents">
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Severity</th>
              <th scope="col">Incident</th>
              <th scope="col">Service</th>
              <th scope="col">Cluster</th>
              <th scope="col">Age</th>
              <th scope="col">Rebound is</th>
            </tr>
          </thead>
          <tbody>
            {items.map((i) => (
              <tr
                key={i.id}
                class="clickable"
                data-incident={i.id}
                onClick={() => navigate(`/incidents/${encodeURIComponent(i.id)}`)}
              >
                <td data-label="Status">
                  <Badge tone={STATUS_TONE[i.status]}>{i.status}</Badge>
                </td>
                <td data-label="Severity">
                  <Badge tone={SEVERITY_TONE[i.severity]}>{i.severity}</Badge>
                </td>
                <td data-label="Incident">
                  <a href={`/incidents/${encodeURIComponent(i.id)}`}>{i.title}</a>
                  <div class="muted small">
                    {i.alertCount} alert{i.alertCount === 1 ? '' : 's'}, {i.firingCount} firing
                  </div>
                </td>
                <td data-label="Service">{i.service ?? '–'}</td>
                <td data-label="Cluster">{i.cluster ?? '–'}</td>
                <td data-label="Age" title={i.openedAt}>
                  {ago(i.openedAt)}
                </td>
                <td data-label="Rebound is">{doing(i, activity)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
