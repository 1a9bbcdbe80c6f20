import { BURN_WINDOWS, burnRateFactor, recordedWindows, roundTo, windowLabel } from './burn-rate.ts';
import type { BurnWindow } from './burn-rate.ts';
import { WINDOW_PLACEHOLDER, errorBudget } from './definition.ts';
import type { SloDefinition } from './definition.ts';
import { describeMinutes } from './duration.ts';

/** Prometheus rule-file shapes, as `promtool check rules` expects them. */
export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels: Record<string, string>;
}

export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

export interface RuleGroup {
  readonly name: string;
  readonly interval?: string;
  readonly rules: readonly (RecordingRule | AlertingRule)[];
}

export interface RuleFile {
  readonly groups: readonly RuleGroup[];
}

/** Name of the recorded error ratio over a window, e.g. `slo:sli_error:ratio_rate5m`. */
export function ratioRecordName(minutes: number): string {
  return `slo:sli_error:ratio_rate${windowLabel(minutes)}`;
}

/** Turns SLO definitions into recording rules (error ratio per window) and burn-rate alerts. */
export function generateRuleFile(slos: readonly SloDefinition[]): RuleFile {
  return { groups: slos.flatMap((slo) => sloGroups(slo)) };
}

function sloGroups(slo: SloDefinition): RuleGroup[] {
  const identity = { slo: slo.name, ...(slo.service ? { service: slo.service } : {}), ...slo.labels };
  const windows = recordedWindows(slo.windowMinutes);
  const fast = windows.filter((m) => m !== slo.windowMinutes);
  const budget = errorBudget(slo.objective);
  return [
    {
      name: `slo:${slo.name}:ratios`,
      rules: fast.map((m) => ({
        record: ratioRecordName(m),
        expr: errorRatioExpr(slo, m),
        labels: identity,
      })),
    },
    {
      // The whole-window ratio scans weeks of samples: evaluate it rarely, it changes slowly anyway.
      name: `slo:${slo.name}:budget`,
      interval: '5m',
      rules: [
        {
          record: ratioRecordName(slo.windowMinutes),
          expr: errorRatioExpr(slo, slo.windowMinutes),
          labels: identity,
        },
        { record: 'slo:objective:ratio', expr: `vector(${roundTo(1 - budget, 10)})`, labels: identity },
        {
          record: 'slo:error_budget_remaining:ratio',
          expr: `1 - ${ratioRecordName(slo.windowMinutes)}{slo="${slo.name}"} / ${budget}`,
          labels: identity,
        },
      ],
    },
    {
      name: `slo:${slo.name}:alerts`,
      rules: [...BURN_WINDOWS.map((w) => burnAlert(slo, w, identity)), exhaustedAlert(slo, identity)],
    },
  ];
}

/** The SLI as an error ratio over one window; a good/total SLI becomes 1 - good/total. */
function errorRatioExpr(slo: SloDefinition, minutes: number): string {
  const at = (q: string) => q.trim().split(WINDOW_PLACEHOLDER).join(windowLabel(minutes));
  const total = at(slo.sli.total);
  if (slo.sli.error !== undefined) return `(${at(slo.sli.error)})\n/\n(${total})`;
  return `1 - (\n  (${at(slo.sli.good!)})\n  /\n  (${total})\n)`;
}

function burnAlert(slo: SloDefinition, window: BurnWindow, identity: Record<string, string>): AlertingRule {
  const factor = burnRateFactor(window, slo.windowMinutes);
  const threshold = `(${factor} * ${errorBudget(slo.objective)})`;
  const selector = `{slo="${slo.name}"}`;
  const long = windowLabel(window.longMinutes);
  const short = windowLabel(window.shortMinutes);
  const exhaustion = describeMinutes(slo.windowMinutes / factor);
  const severityLabels = window.severity === 'page' ? slo.alerting.pageLabels : slo.alerting.ticketLabels;
  return {
    alert: slo.alerting.name,
    expr:
      `${ratioRecordName(window.longMinutes)}${selector} > ${threshold}\n` +
      `and\n` +
      `${ratioRecordName(window.shortMinutes)}${selector} > ${threshold}`,
    labels: {
      ...identity,
      ...severityLabels,
      slo_severity: window.severity,
      long_window: long,
      short_window: short,
      burn_rate: String(factor),
    },
    annotations: {
      summary: `SLO ${slo.name} burns its error budget ${factor}× too fast (${long} and ${short} windows)`,
      description:
        `The error ratio is {{ $value | humanizePercentage }} against a budget of ${roundTo(errorBudget(slo.objective) * 100, 8)}% ` +
        `(objective ${slo.objective}% over ${windowLabel(slo.windowMinutes)}). ` +
        `At this rate the whole budget is gone in ${exhaustion}.` +
        (slo.description ? ` ${slo.description}` : ''),
      ...slo.alerting.annotations,
    },
  };
}

/** The budget is spent: every further error breaks the objective (a ticket, not a page: it is a trend). */
function exhaustedAlert(slo: SloDefinition, identity: Record<string, string>): AlertingRule {
  return {
    alert: 'ErrorBudgetExhausted',
    expr: `slo:error_budget_remaining:ratio{slo="${slo.name}"} <= 0`,
    labels: { ...identity, ...slo.alerting.ticketLabels, slo_severity: 'ticket' },
    annotations: {
      summary: `SLO ${slo.name} has spent its whole error budget for the last ${windowLabel(slo.windowMinutes)}`,
      description:
        `Remaining budget {{ $value | humanizePercentage }} (objective ${slo.objective}%). ` +
        'Freeze risky changes until it recovers.',
      ...slo.alerting.annotations,
    },
  };
}
