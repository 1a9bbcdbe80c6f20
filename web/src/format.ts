/** Small formatting helpers shared by the pages. */

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '–';
  return duration((now - Date.parse(iso)) / 1000) + ' ago';
}

/** How far ahead a time is, e.g. `in 4m`; `now` once it has passed. */
export function fromNow(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '–';
  const seconds = (Date.parse(iso) - now) / 1000;
  return seconds <= 0 ? 'now' : `in ${duration(seconds)}`;
}

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `${s}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${(s / 3600).toFixed(1)}h`;
  return `${(s / 86_400).toFixed(1)}d`;
}

export function time(iso: string | null | undefined): string {
  if (!iso) return '–';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

export function percent(ratio: number | null | undefined): string {
  return ratio === null || ratio === undefined ? '–' : `${Math.round(ratio * 100)}%`;
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? 'null';
}

/**
 * A URL from alert data (a generator URL, a `runbook_url` annotation) fit for a link: http(s) only. Anything
 * else — `javascript:`, `data:`, a relative path — is not linked.
 */
export function safeHref(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}
