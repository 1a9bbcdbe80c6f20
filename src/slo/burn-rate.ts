import { formatMinutes } from './duration.ts';

/**
 * Multi-window, multi-burn-rate alerting from the Google SRE workbook ("Alerting on SLOs", table 5-8).
 * Each alert fires when both a long and a short window burn the error budget faster than a factor; the
 * short window (long / 12) makes the alert stop soon after the burn stops. For a 30-day SLO the factors are
 * the workbook's 14.4, 6, 3 and 1; for other SLO windows they are derived from the same budget fractions.
 */

export type AlertSeverity = 'page' | 'ticket';

export interface BurnWindow {
  readonly severity: AlertSeverity;
  readonly longMinutes: number;
  readonly shortMinutes: number;
  /** Share of the whole error budget this window may consume before it alerts. */
  readonly budgetFraction: number;
}

export const BURN_WINDOWS: readonly BurnWindow[] = [
  { severity: 'page', longMinutes: 60, shortMinutes: 5, budgetFraction: 0.02 },
  { severity: 'page', longMinutes: 6 * 60, shortMinutes: 30, budgetFraction: 0.05 },
  { severity: 'ticket', longMinutes: 24 * 60, shortMinutes: 2 * 60, budgetFraction: 0.1 },
  { severity: 'ticket', longMinutes: 3 * 24 * 60, shortMinutes: 6 * 60, budgetFraction: 0.1 },
];

/** Burn-rate factor of a window for an SLO window: budget fraction × SLO window / long window. */
export function burnRateFactor(window: BurnWindow, sloWindowMinutes: number): number {
  return roundTo((window.budgetFraction * sloWindowMinutes) / window.longMinutes, 4);
}

/** Every window a ratio must be recorded for: each long and short window, shortest first, as durations. */
export function recordedWindows(sloWindowMinutes: number): number[] {
  const all = new Set<number>([sloWindowMinutes]);
  for (const w of BURN_WINDOWS) {
    all.add(w.longMinutes);
    all.add(w.shortMinutes);
  }
  return [...all].sort((a, b) => a - b);
}

export function windowLabel(minutes: number): string {
  return formatMinutes(minutes);
}

/** Rounds away binary noise (0.02 × 720 = 14.400000000000002) so rule files read like the workbook. */
export function roundTo(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
