import { useState } from 'preact/hooks';
import { api, qs } from '../api.ts';
import { Badge, ErrorNote, JsonBlock, Loading, useResource } from '../components/ui.tsx';
import { ago } from '../format.ts';
import type { ArchivedEvent } from '../types.ts';

/** How far back the page looks, by label. */
const WINDOWS: Readonly<Record<string, number>> = {
  '15 minutes': 15 * 60,
  '1 hour': 3600,
  '24 hours': 86_400,
  '7 days': 7 * 86_400,
};
const PAGE = 100;

interface Page {
  readonly items: ArchivedEvent[];
  readonly nextCursor?: string;
}

/**
 * The event archive, newest first: what reached the bus (alerts, incident lifecycle events, PutEvents from
 * other producers, replays), with each envelope on demand. Filtering by source or detail type is done here,
 * on the events loaded.
 */
export function EventsPage() {
  const [since, setSince] = useState('1 hour');
  const [filter, setFilter] = useState('');
  const [older, setOlder] = useState<Page[]>([]);
  const [olderError, setOlderError] = useState<Error | null>(null);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const from = () => new Date(Date.now() - WINDOWS[since]! * 1000).toISOString();
  const list = useResource(() => {
    setOlder([]);
    return api<Page>('GET', `/v1/events${qs({ order: 'desc', limit: PAGE, from: from() })}`);
  }, [since]);
  const pages = list.data ? [list.data, ...older] : [];
  const cursor = pages[pages.length - 1]?.nextCursor;
  const loadOlder = () => {
    setLoadingOlder(true);
    setOlderError(null);
    api<Page>('GET', `/v1/events${qs({ order: 'desc', limit: PAGE, from: from(), cursor })}`).then(
      (page) => {
        setOlder((pages) => [...pages, page]);
        setLoadingOlder(false);
      },
      (err: unknown) => {
        setOlderError(err instanceof Error ? err : new Error(String(err)));
        setLoadingOlder(false);
      },
    );
  };
  const needle = filter.trim().toLowerCase();
  const events = pages
    .flatMap((p) => p.items)
    .filter(
      ({ envelope: e }) =>
        needle === '' ||
        e.source.toLowerCase().includes(needle) ||
        e['detail-type'].toLowerCase().includes(needle),
    );
  const loaded = pages.reduce((n, p) => n + p.items.length, 0);
  return (
    <div class="page">
      <h1>Events</h1>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="e-window">Since</label>
          <select
            id="e-window"
            value={since}
            onChange={(e) => setSince((e.target as HTMLSelectElement).value)}
          >
            {Object.keys(WINDOWS).map((w) => (
              <option key={w} value={w}>
                the last {w}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="e-filter">Source or detail type</label>
          <input
            id="e-filter"
            type="search"
            value={filter}
            placeholder="e.g. rebound.incidents"
            onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
          />
        </div>
        <button type="button" class="btn btn-plain" onClick={list.reload}>
          Refresh
        </button>
      </form>
      <Loading resource={list} />
      {list.data && loaded === 0 && <p class="muted">No events in the last {since}.</p>}
      {loaded > 0 && events.length === 0 && (
        <p class="muted">
          None of the {loaded} events loaded comes from a source or has a detail type with “{filter}”.
        </p>
      )}
      {events.length > 0 && (
        <table class="list" aria-label="Events">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Source</th>
              <th scope="col">Detail type</th>
              <th scope="col">Event</th>
            </tr>
          </thead>
          <tbody>
            {events.map((event) => {
              const e = event.envelope;
              return (
                <tr key={e.id} data-event={e.id}>
                  <td data-label="Time" title={e.time}>
                    {ago(e.time)}
                  </td>
                  <td data-label="Source">{e.source}</td>
                  <td data-label="Detail type">
                    {e['detail-type']}{' '}
                    {e['replay-name'] && <Badge tone="info">replay {e['replay-name']}</Badge>}
                  </td>
                  <td data-label="Event" class="wrap">
                    <JsonBlock label={e.id} value={event} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {cursor && (
        <p>
          <button type="button" class="btn btn-plain" disabled={loadingOlder} onClick={loadOlder}>
            Load older events
          </button>
        </p>
      )}
      <ErrorNote error={olderError} />
    </div>
  );
}
