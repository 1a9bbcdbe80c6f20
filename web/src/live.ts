import { useEffect, useRef, useState } from 'preact/hooks';

export type LiveKind = 'incident' | 'execution' | 'approval' | 'dlq';
type Listener = (kind: LiveKind | 'ready', id: string) => void;

const listeners = new Set<Listener>();
const statusListeners = new Set<(connected: boolean) => void>();
let source: EventSource | null = null;
let connected = false;

function setConnected(value: boolean): void {
  connected = value;
  for (const l of statusListeners) l(value);
}

/** Opens the one stream of the page (`GET /v1/stream`); the browser reconnects by itself after a drop. */
export function startLive(): void {
  if (source) return;
  source = new EventSource('/v1/stream');
  source.addEventListener('open', () => setConnected(true));
  source.addEventListener('error', () => setConnected(false));
  // `ready` arrives on every (re)connection: changes during a gap were not seen, so everyone reloads.
  source.addEventListener('ready', () => {
    setConnected(true);
    for (const l of listeners) l('ready', '*');
  });
  for (const kind of ['incident', 'execution', 'approval', 'dlq'] as const) {
    source.addEventListener(kind, (event) => {
      const { id } = JSON.parse((event as MessageEvent<string>).data) as { id: string };
      for (const l of listeners) l(kind, id);
    });
  }
}

export function stopLive(): void {
  source?.close();
  source = null;
  setConnected(false);
}

/** Calls `reload` (at most every 250 ms) when an object of these kinds changes, or after a reconnection. */
export function useLive(kinds: readonly LiveKind[], reload: (id: string) => void): void {
  const latest = useRef(reload);
  latest.current = reload;
  const key = kinds.join(',');
  useEffect(() => {
    let timer: number | undefined;
    let ids = new Set<string>();
    const listener: Listener = (kind, id) => {
      if (kind !== 'ready' && !key.split(',').includes(kind)) return;
      ids.add(id);
      if (timer !== undefined) return;
      timer = window.setTimeout(() => {
        timer = undefined;
        const batch = ids;
        ids = new Set();
        for (const changed of batch.has('*') ? ['*'] : batch) latest.current(changed);
      }, 250);
    };
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [key]);
}

export function useLiveStatus(): boolean {
  const [value, setValue] = useState(connected);
  useEffect(() => {
    statusListeners.add(setValue);
    return () => void statusListeners.delete(setValue);
  }, []);
  return value;
}
