/**
 * Incident analytics: MTTR / MTTA trends, incident frequency, remediation effectiveness and the share of
 * incidents handled by automation. Computed here from plain rows, so every store backend only has to answer
 * range queries by opening time (a DynamoDB Query on the by-time index), never aggregate.
 */

/** One incident as analytics needs it. */
export interface AnalyticsIncident {
  readonly id: string;
  readonly service: string | null;
  readonly alertname: string | null;
  readonly openedAt: string;
  /** First response: acknowledged by a person, or taken over by a runbook (`remediating`). */
  readonly respondedAt: string | null;
  readonly resolvedAt: string | null;
  readonly escalatedAt: string | null;
}

/** One action a runbook ran for an incident (timeline kind `action`). */
export interface AnalyticsAction {
  readonly incidentId: string;
  readonly action: string;
  readonly outcome: string;
  /** Whether the action changes the cluster; absent on records written before Rebound recorded it. */
  readonly mutating?: boolean;
  readonly at: string;
}

/** One runbook execution started for an incident (its input carried `incidentId`). */
export interface AnalyticsExecution {
  readonly incidentId: string;
  readonly runbook: string;
  readonly status: string;
  readonly startedAt: string;
}

/** What analytics reads: everything about incidents opened in [from, to). */
export interface AnalyticsSource {
  /** Incidents opened in [from, to), optionally of one service. */
  incidents(from: string, to: string, service?: string): Promise<AnalyticsIncident[]>;
  /** Actions recorded on incidents opened in [from, to). */
  actions(from: string, to: string): Promise<AnalyticsAction[]>;
  /** Executions whose input names an incident, started at or after `from`. */
  executions(from: string): Promise<AnalyticsExecution[]>;
}

export type Bucket = 'hour' | 'day';

export interface AnalyticsQuery {
  readonly from: string;
  readonly to: string;
  readonly service?: string;
  /** Trend granularity; default hour for ranges up to two days, day beyond. */
  readonly bucket?: Bucket;
}

export interface Series {
  readonly count: number[];
  /** Mean seconds from opened to resolved, of the incidents opened in each bucket (null: none resolved). */
  readonly mttrSeconds: (number | null)[];
  /** Mean seconds from opened to first response. */
  readonly mttaSeconds: (number | null)[];
}

export interface Effectiveness {
  readonly key: string;
  /** Incidents it ran for (acted, for actions; started, for runbooks). */
  readonly runs: number;
  /** Of those, resolved without escalation. */
  readonly succeeded: number;
  readonly successRate: number | null;
  /** Mean seconds from the action (or execution start) to the incident's resolution. */
  readonly meanTimeToResolveSeconds: number | null;
}

export interface AnalyticsReport {
  readonly range: { readonly from: string; readonly to: string; readonly bucket: Bucket };
  readonly overall: {
    readonly incidents: number;
    readonly resolved: number;
    readonly mttrSeconds: number | null;
    readonly mttaSeconds: number | null;
  };
  readonly trends: {
    /** Start of each bucket (ISO-8601). */
    readonly buckets: string[];
    readonly overall: Series;
    readonly services: Record<string, Series>;
  };
  readonly frequency: {
    readonly byService: { key: string; count: number }[];
    readonly byAlert: { key: string; count: number }[];
  };
  readonly effectiveness: { readonly byAction: Effectiveness[]; readonly byRunbook: Effectiveness[] };
  /**
   * How incidents ended: resolved after Rebound changed something (automated), a human was paged (escalated),
   * resolved otherwise (manual — also when a runbook only notified or ran in shadow mode), or still open.
   */
  readonly share: {
    readonly automated: number;
    readonly escalated: number;
    readonly manual: number;
    readonly open: number;
    readonly total: number;
  };
}

/** For action records written before they said whether the action mutates: the groups that change a cluster. */
const MUTATING_GROUPS = ['k8s.', 'config.'];

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const NO_SERVICE = '(none)';

/** Reads the rows for the range and computes the report. */
export async function computeAnalytics(
  source: AnalyticsSource,
  query: AnalyticsQuery,
): Promise<AnalyticsReport> {
  const [incidents, actions, executions] = await Promise.all([
    source.incidents(query.from, query.to, query.service),
    source.actions(query.from, query.to),
    source.executions(query.from),
  ]);
  return buildReport(query, incidents, actions, executions);
}

/** The pure part: a report from rows (tests call it directly). */
export function buildReport(
  query: AnalyticsQuery,
  incidents: readonly AnalyticsIncident[],
  actions: readonly AnalyticsAction[],
  executions: readonly AnalyticsExecution[],
): AnalyticsReport {
  const fromMs = Date.parse(query.from);
  const toMs = Date.parse(query.to);
  const bucket: Bucket = query.bucket ?? (toMs - fromMs <= 2 * DAY ? 'hour' : 'day');
  const size = bucket === 'hour' ? HOUR : DAY;
  const start = Math.floor(fromMs / size) * size;
  const count = Math.max(1, Math.ceil((toMs - start) / size));
  const buckets = Array.from({ length: count }, (_, i) => new Date(start + i * size).toISOString());
  const indexOf = (iso: string) =>
    Math.min(count - 1, Math.max(0, Math.floor((Date.parse(iso) - start) / size)));

  const byId = new Map(incidents.map((i) => [i.id, i]));
  const overall = new SeriesBuilder(count);
  const services = new Map<string, SeriesBuilder>();
  for (const incident of incidents) {
    const at = indexOf(incident.openedAt);
    const service = incident.service ?? NO_SERVICE;
    if (!services.has(service)) services.set(service, new SeriesBuilder(count));
    for (const series of [overall, services.get(service)!]) series.add(at, incident);
  }

  // Automated: Rebound changed something for the incident (a mutating action acted for real). A runbook that
  // only notified, verified or ran in shadow mode did not fix it.
  const automatedIds = new Set<string>();
  const actionStats = new Map<string, EffectivenessBuilder>();
  for (const action of actions) {
    const incident = byId.get(action.incidentId);
    if (!incident || action.outcome !== 'acted') continue;
    if (action.mutating ?? MUTATING_GROUPS.some((g) => action.action.startsWith(g)))
      automatedIds.add(incident.id);
    statFor(actionStats, action.action).add(incident, action.at);
  }
  const runbookStats = new Map<string, EffectivenessBuilder>();
  for (const execution of executions) {
    const incident = byId.get(execution.incidentId);
    if (incident) statFor(runbookStats, execution.runbook).add(incident, execution.startedAt);
  }

  const share = { automated: 0, escalated: 0, manual: 0, open: 0, total: incidents.length };
  for (const incident of incidents) {
    if (incident.escalatedAt) share.escalated++;
    else if (!incident.resolvedAt) share.open++;
    else if (automatedIds.has(incident.id)) share.automated++;
    else share.manual++;
  }

  const totals = overall.totals();
  return {
    range: { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), bucket },
    overall: { incidents: incidents.length, ...totals },
    trends: {
      buckets,
      overall: overall.series(),
      services: Object.fromEntries(
        [...services].sort(([a], [b]) => a.localeCompare(b)).map(([k, s]) => [k, s.series()]),
      ),
    },
    frequency: {
      byService: tally(incidents.map((i) => i.service ?? NO_SERVICE)),
      byAlert: tally(incidents.map((i) => i.alertname ?? NO_SERVICE)),
    },
    effectiveness: {
      byAction: [...actionStats.entries()].map(([k, s]) => s.result(k)).sort(byRuns),
      byRunbook: [...runbookStats.entries()].map(([k, s]) => s.result(k)).sort(byRuns),
    },
    share,
  };
}

function seconds(from: string, to: string | null): number | null {
  return to === null ? null : Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000);
}

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : Math.round(values.reduce((a, b) => a + b, 0) / values.length);
}

class SeriesBuilder {
  private readonly counts: number[];
  private readonly ttr: number[][];
  private readonly tta: number[][];

  constructor(size: number) {
    this.counts = new Array<number>(size).fill(0);
    this.ttr = Array.from({ length: size }, () => []);
    this.tta = Array.from({ length: size }, () => []);
  }

  add(at: number, incident: AnalyticsIncident): void {
    this.counts[at]!++;
    const ttr = seconds(incident.openedAt, incident.resolvedAt);
    if (ttr !== null) this.ttr[at]!.push(ttr);
    const tta = seconds(incident.openedAt, incident.respondedAt);
    if (tta !== null) this.tta[at]!.push(tta);
  }

  series(): Series {
    return { count: [...this.counts], mttrSeconds: this.ttr.map(mean), mttaSeconds: this.tta.map(mean) };
  }

  totals() {
    const ttr = this.ttr.flat();
    return { resolved: ttr.length, mttrSeconds: mean(ttr), mttaSeconds: mean(this.tta.flat()) };
  }
}

class EffectivenessBuilder {
  private readonly incidents = new Map<string, { incident: AnalyticsIncident; at: string }>();

  /** Counts an incident once per action/runbook, from its first run. */
  add(incident: AnalyticsIncident, at: string): void {
    const seen = this.incidents.get(incident.id);
    if (!seen || at < seen.at) this.incidents.set(incident.id, { incident, at });
  }

  result(key: string): Effectiveness {
    const runs = [...this.incidents.values()];
    const fixed = runs.filter((r) => r.incident.resolvedAt !== null && r.incident.escalatedAt === null);
    return {
      key,
      runs: runs.length,
      succeeded: fixed.length,
      successRate: runs.length === 0 ? null : fixed.length / runs.length,
      meanTimeToResolveSeconds: mean(fixed.map((r) => seconds(r.at, r.incident.resolvedAt)!)),
    };
  }
}

function statFor(map: Map<string, EffectivenessBuilder>, key: string): EffectivenessBuilder {
  let stat = map.get(key);
  if (!stat) map.set(key, (stat = new EffectivenessBuilder()));
  return stat;
}

function tally(keys: readonly string[]): { key: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const key of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  return [...counts]
    .map(([key, count]) => ({ key, count }))
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}

function byRuns(a: Effectiveness, b: Effectiveness): number {
  return b.runs - a.runs || a.key.localeCompare(b.key);
}
