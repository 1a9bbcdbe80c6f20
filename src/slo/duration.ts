/**
 * Prometheus-style durations limited to the units SLO windows use (m, h, d, w). Kept in minutes so window
 * arithmetic (burn-rate factors, short = long / 12) is exact integer math.
 */

const UNIT_MINUTES = { m: 1, h: 60, d: 24 * 60, w: 7 * 24 * 60 } as const;

/** Parses `5m`, `6h`, `30d`, `4w` into minutes; undefined when the text is not such a duration. */
export function parseDurationMinutes(text: string): number | undefined {
  const match = /^([1-9]\d*)([mhdw])$/.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MINUTES[match[2] as keyof typeof UNIT_MINUTES];
}

/** Formats minutes in the largest unit that divides them exactly, as Prometheus writes durations. */
export function formatMinutes(minutes: number): string {
  for (const unit of ['w', 'd', 'h'] as const) {
    if (minutes % UNIT_MINUTES[unit] === 0) return `${minutes / UNIT_MINUTES[unit]}${unit}`;
  }
  return `${minutes}m`;
}

/** A human reading of a duration for annotations, e.g. `2d 2h` or `50m`. */
export function describeMinutes(minutes: number): string {
  const days = Math.floor(minutes / (24 * 60));
  const hours = Math.floor((minutes % (24 * 60)) / 60);
  const mins = Math.round(minutes % 60);
  const parts = [days ? `${days}d` : '', hours ? `${hours}h` : '', mins && !days ? `${mins}m` : ''];
  return parts.filter(Boolean).join(' ') || '0m';
}
