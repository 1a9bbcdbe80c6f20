import { useState } from 'preact/hooks';
import { api, qs } from '../api.ts';
import { Badge, Loading, useResource, type Tone } from '../components/ui.tsx';
import { ago, duration } from '../format.ts';
import { useLive } from '../live.ts';
import { navigate } from '../router.ts';
import type { Execution, ExecutionStatus } from '../types.ts';

export const EXECUTION_TONE: Record<ExecutionStatus, Tone> = {
  RUNNING: 'busy',
  SUCCEEDED: 'good',
  FAILED: 'bad',
  TIMED_OUT: 'bad',
  ABORTED: 'warn',
};

export function elapsed(e: Execution): string {
  const end = e.stopDate ? Date.parse(e.stopDate) : Date.now();
  return duration((end - Date.parse(e.startDate)) / 1000);
}

export function ExecutionsPage() {
  const [status, setStatus] = useState<ExecutionStatus | ''>('');
  const list = useResource(
    () => api<{ items: Execution[] }>('GET', `/v1/executions${qs({ status, limit: 200 })}`),
    [status],
  );
  useLive(['execution'], () => list.reload());
  return (
    <div class="page">
      <h1>Executions</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="x-status">Status</label>
          <select
            id="x-status"
            value={status}
            onChange={(e) => setStatus((e.target as HTMLSelectElement).value as ExecutionStatus | '')}
          >
            <option value="">any</option>
            {Object.keys(EXECUTION_TONE).map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
      </form>
      <Loading resource={list} />
      {list.data && list.data.items.length === 0 && <p class="muted">No executions yet.</p>}
      {list.data && list.data.items.length > 0 && (
        <table class="list" aria-label="Executions">
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Runbook</th>
              <th scope="col">Execution</th>
              <th scope="col">Started</th>
              <th scope="col">Duration</th>
              <th scope="col">Error</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((e) => (
              <tr
                key={e.executionId}
                class="clickable"
                onClick={() => navigate(`/executions/${encodeURIComponent(e.executionId)}`)}
              >
                <td data-label="Status">
                  <Badge tone={EXECUTION_TONE[e.status]}>{e.status}</Badge>
                </td>
                <td data-label="Runbook">{e.workflow}</td>
                <td data-label="Execution">
                  <a href={`/executions/${encodeURIComponent(e.executionId)}`}>{e.name}</a>
                </td>
                <td data-label="Started" title={e.startDate}>
                  {ago(e.startDate)}
                </td>
                <td data-label="Duration">{elapsed(e)}</td>
                <td data-label="Error">{e.error ?? '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
