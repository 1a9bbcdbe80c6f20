import { ReboundError } from '../../errors.ts';
import type { Incident, IncidentAlert, TimelineEntry } from '../../incidents/model.ts';
import type { IncidentChange, IncidentPage, IncidentQuery, IncidentStore } from '../../incidents/port.ts';
import type { StoredEvent } from '../../events/envelope.ts';
import type { Migration, SqliteDatabase } from './database.ts';
import { deleteInChunks, type GroupCommitter } from './group-commit.ts';
import { decodeCursor, encodeCursor } from './pagination.ts';

/** Resolved incidents per retention DELETE (each its own transaction; children go with them by cascade). */
const DELETE_CHUNK = 500;

export const incidentMigrations: Migration[] = [
  {
    id: 'incidents/0001_init',
    up: `
      CREATE TABLE incidents (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        title TEXT NOT NULL,
        severity TEXT NOT NULL,
        correlation_key TEXT NOT NULL,
        labels TEXT NOT NULL,
        service TEXT,
        namespace TEXT,
        cluster TEXT,
        opened_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        acknowledged_at TEXT,
        resolved_at TEXT,
        escalated_at TEXT,
        alert_count INTEGER NOT NULL,
        firing_count INTEGER NOT NULL,
        correlation_id TEXT NOT NULL,
        version INTEGER NOT NULL
      );
      -- At most one open incident per correlation key.
      CREATE UNIQUE INDEX incidents_open_by_key ON incidents (correlation_key) WHERE status <> 'resolved';
      CREATE INDEX incidents_by_opened ON incidents (opened_at DESC, id DESC);
      CREATE INDEX incidents_by_status ON incidents (status, opened_at DESC, id DESC);
      CREATE INDEX incidents_by_service ON incidents (service, opened_at DESC, id DESC);
      CREATE INDEX incidents_resolved ON incidents (resolved_at) WHERE status = 'resolved';
      CREATE TABLE incident_alerts (
        incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
        fingerprint TEXT NOT NULL,
        alertname TEXT NOT NULL,
        status TEXT NOT NULL,
        labels TEXT NOT NULL,
        annotations TEXT NOT NULL,
        starts_at TEXT NOT NULL,
        ends_at TEXT NOT NULL,
        generator_url TEXT NOT NULL,
        last_event_id TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (incident_id, fingerprint)
      );
      CREATE TABLE timeline (
        incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        kind TEXT NOT NULL,
        description TEXT NOT NULL,
        data TEXT,
        correlation_id TEXT,
        PRIMARY KEY (incident_id, seq)
      );
      -- Events already applied: projection is idempotent on the event id.
      CREATE TABLE incident_events (
        event_id TEXT PRIMARY KEY,
        incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE
      );
      CREATE INDEX incident_events_by_incident ON incident_events (incident_id);
    `,
  },
  {
    // An alert resolving after its incident was resolved (by hand, say) is applied to that incident: found
    // by the alert, among the few alerts still firing.
    id: 'incidents/0002_firing_alerts',
    up: `CREATE INDEX incident_alerts_firing ON incident_alerts (fingerprint) WHERE status = 'firing';`,
  },
];

interface IncidentRow {
  id: string;
  status: Incident['status'];
  title: string;
  severity: Incident['severity'];
  correlation_key: string;
  labels: string;
  service: string | null;
  namespace: string | null;
  cluster: string | null;
  opened_at: string;
  updated_at: string;
  acknowledged_at: string | null;
  resolved_at: string | null;
  escalated_at: string | null;
  alert_count: number;
  firing_count: number;
  correlation_id: string;
  version: number;
}

/** Where lifecycle events go: the event log, appended inside the incident change's own transaction. */
export interface IncidentEventSink {
  appendWithin(events: readonly StoredEvent[]): unknown;
}

export class SqliteIncidentStore implements IncidentStore {
  private readonly stmts;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly committer: GroupCommitter,
    private readonly events?: {
      readonly log: IncidentEventSink;
      /** Called after a commit that appended events (the bus routes them now rather than at its next poll). */
      readonly onAppended?: () => void;
    },
  ) {
    this.stmts = {
      openByKey: db.prepare("SELECT * FROM incidents WHERE correlation_key = ? AND status <> 'resolved'"),
      // CROSS JOIN keeps the alerts the outer loop: the few firing ones with this fingerprint (a partial
      // index), not every resolved incident.
      resolvedShowingFiring:
        db.prepare(`SELECT i.* FROM incident_alerts a CROSS JOIN incidents i ON i.id = a.incident_id
        WHERE a.fingerprint = ? AND a.status = 'firing' AND i.correlation_key = ? AND i.status = 'resolved'
        ORDER BY i.opened_at DESC LIMIT 1`),
      byId: db.prepare('SELECT * FROM incidents WHERE id = ?'),
      alert: db.prepare('SELECT * FROM incident_alerts WHERE incident_id = ? AND fingerprint = ?'),
      alerts: db.prepare(
        'SELECT * FROM incident_alerts WHERE incident_id = ? ORDER BY starts_at, fingerprint',
      ),
      timeline: db.prepare('SELECT * FROM timeline WHERE incident_id = ? ORDER BY seq'),
      lastSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM timeline WHERE incident_id = ?'),
      countOpen: db.prepare("SELECT COUNT(*) AS n FROM incidents WHERE status <> 'resolved'"),
      insert:
        db.prepare(`INSERT INTO incidents VALUES (@id, @status, @title, @severity, @correlation_key, @labels,
        @service, @namespace, @cluster, @opened_at, @updated_at, @acknowledged_at, @resolved_at, @escalated_at,
        @alert_count, @firing_count, @correlation_id, @version)`),
      update: db.prepare(`UPDATE incidents SET status = @status, title = @title, severity = @severity,
        labels = @labels, updated_at = @updated_at, acknowledged_at = @acknowledged_at,
        resolved_at = @resolved_at, escalated_at = @escalated_at, alert_count = @alert_count,
        firing_count = @firing_count, version = @version
        WHERE id = @id AND version = @expected_version`),
      upsertAlert: db.prepare(`INSERT INTO incident_alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (incident_id, fingerprint) DO UPDATE SET status = excluded.status, labels = excluded.labels,
        annotations = excluded.annotations, starts_at = excluded.starts_at, ends_at = excluded.ends_at,
        generator_url = excluded.generator_url, last_event_id = excluded.last_event_id,
        updated_at = excluded.updated_at`),
      applied: db.prepare('SELECT 1 FROM incident_events WHERE event_id = ?').pluck(),
      recordApplied: db.prepare(
        'INSERT OR IGNORE INTO incident_events (event_id, incident_id) VALUES (?, ?)',
      ),
      appendTimeline: db.prepare('INSERT INTO timeline VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
    };
  }

  async findOpenByKey(correlationKey: string): Promise<Incident | undefined> {
    const row = this.stmts.openByKey.get(correlationKey) as IncidentRow | undefined;
    return row && toIncident(row);
  }

  async findResolvedShowingFiring(
    correlationKey: string,
    fingerprint: string,
  ): Promise<Incident | undefined> {
    const row = this.stmts.resolvedShowingFiring.get(fingerprint, correlationKey) as IncidentRow | undefined;
    return row && toIncident(row);
  }

  async appliedEvents(eventIds: readonly string[]): Promise<Set<string>> {
    return new Set(eventIds.filter((id) => this.stmts.applied.get(id) !== undefined));
  }

  async getIncident(id: string): Promise<Incident | undefined> {
    const row = this.stmts.byId.get(id) as IncidentRow | undefined;
    return row && toIncident(row);
  }

  async listIncidents(query: IncidentQuery): Promise<IncidentPage> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const add = (clause: string, ...values: (string | number)[]) => {
      where.push(clause);
      args.push(...values);
    };
    if (query.status && query.status.length > 0) {
      add(`status IN (${query.status.map(() => '?').join(', ')})`, ...query.status);
    }
    if (query.service) add('service = ?', query.service);
    if (query.from) add('opened_at >= ?', query.from);
    if (query.to) add('opened_at < ?', query.to);
    if (query.cursor) {
      const [openedAt, id] = decodeCursor(query.cursor, ['string', 'string']);
      add('(opened_at < ? OR (opened_at = ? AND id < ?))', openedAt, openedAt, id);
    }
    const sql =
      'SELECT * FROM incidents' +
      (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
      ' ORDER BY opened_at DESC, id DESC LIMIT ?';
    const rows = this.db.prepare(sql).all(...args, query.limit + 1) as IncidentRow[];
    const page = rows.slice(0, query.limit).map(toIncident);
    const last = page[page.length - 1];
    return {
      items: page,
      ...(rows.length > query.limit && last ? { nextCursor: encodeCursor([last.openedAt, last.id]) } : {}),
    };
  }

  async getAlert(incidentId: string, fingerprint: string): Promise<IncidentAlert | undefined> {
    const row = this.stmts.alert.get(incidentId, fingerprint) as Record<string, string> | undefined;
    return row && toAlert(row);
  }

  async listAlerts(incidentId: string): Promise<IncidentAlert[]> {
    return (this.stmts.alerts.all(incidentId) as Record<string, string>[]).map(toAlert);
  }

  async listTimeline(incidentId: string): Promise<TimelineEntry[]> {
    return (this.stmts.timeline.all(incidentId) as Record<string, string | number | null>[]).map((r) => ({
      incidentId: String(r['incident_id']),
      seq: Number(r['seq']),
      at: String(r['at']),
      actor: String(r['actor']),
      kind: r['kind'] as TimelineEntry['kind'],
      description: String(r['description']),
      data: r['data'] === null ? null : (JSON.parse(String(r['data'])) as unknown),
      correlationId: r['correlation_id'] === null ? null : String(r['correlation_id']),
    }));
  }

  async commit(changes: readonly IncidentChange[]): Promise<void> {
    const announced = changes.some((c) => (c.events?.length ?? 0) > 0);
    if (announced && !this.events) {
      throw new ReboundError('INTERNAL', 'incident lifecycle events need an event log; none was given');
    }
    await this.committer.submit(() => {
      for (const change of changes) this.applyChange(change);
    });
    if (announced) this.events?.onAppended?.();
  }

  async countOpen(): Promise<number> {
    return (this.stmts.countOpen.get() as { n: number }).n;
  }

  async deleteResolvedBefore(cutoff: string, signal?: AbortSignal): Promise<number> {
    // Each incident takes its alerts, timeline and event links with it (ON DELETE CASCADE): small chunks.
    const stmt = this.db.prepare(`DELETE FROM incidents WHERE id IN
      (SELECT id FROM incidents WHERE status = 'resolved' AND resolved_at < ? LIMIT ?)`);
    return deleteInChunks(this.committer, () => stmt.run(cutoff, DELETE_CHUNK).changes, DELETE_CHUNK, signal);
  }

  private applyChange(change: IncidentChange): void {
    const i = change.incident;
    const row = {
      id: i.id,
      status: i.status,
      title: i.title,
      severity: i.severity,
      correlation_key: i.correlationKey,
      labels: JSON.stringify(i.labels),
      service: i.service,
      namespace: i.namespace,
      cluster: i.cluster,
      opened_at: i.openedAt,
      updated_at: i.updatedAt,
      acknowledged_at: i.acknowledgedAt,
      resolved_at: i.resolvedAt,
      escalated_at: i.escalatedAt,
      alert_count: i.alertCount,
      firing_count: i.firingCount,
      correlation_id: i.correlationId,
      version: i.version,
    };
    if (change.expectedVersion === 0) {
      try {
        this.stmts.insert.run(row);
      } catch (err) {
        throw conflict(i.id, err);
      }
    } else if (this.stmts.update.run({ ...row, expected_version: change.expectedVersion }).changes !== 1) {
      throw conflict(i.id);
    }
    for (const a of change.alerts) {
      this.stmts.upsertAlert.run(
        i.id,
        a.fingerprint,
        a.alertname,
        a.status,
        JSON.stringify(a.labels),
        JSON.stringify(a.annotations),
        a.startsAt,
        a.endsAt,
        a.generatorURL,
        a.lastEventId,
        a.updatedAt,
      );
    }
    for (const eventId of change.eventIds ?? []) this.stmts.recordApplied.run(eventId, i.id);
    if (change.events?.length) this.events?.log.appendWithin(change.events);
    let seq = (this.stmts.lastSeq.get(i.id) as { seq: number }).seq;
    for (const t of change.timeline) {
      seq += 1;
      this.stmts.appendTimeline.run(
        i.id,
        seq,
        t.at,
        t.actor,
        t.kind,
        t.description,
        t.data === undefined ? null : JSON.stringify(t.data),
        t.correlationId,
      );
    }
  }
}

function conflict(id: string, cause?: unknown): ReboundError {
  return new ReboundError('CONFLICT', `incident ${id} changed concurrently; re-read it and try again`, {
    cause,
  });
}

function toIncident(r: IncidentRow): Incident {
  return {
    id: r.id,
    status: r.status,
    title: r.title,
    severity: r.severity,
    correlationKey: r.correlation_key,
    labels: JSON.parse(r.labels) as Record<string, string>,
    service: r.service,
    namespace: r.namespace,
    cluster: r.cluster,
    openedAt: r.opened_at,
    updatedAt: r.updated_at,
    acknowledgedAt: r.acknowledged_at,
    resolvedAt: r.resolved_at,
    escalatedAt: r.escalated_at,
    alertCount: r.alert_count,
    firingCount: r.firing_count,
    correlationId: r.correlation_id,
    version: r.version,
  };
}

function toAlert(r: Record<string, string>): IncidentAlert {
  return {
    incidentId: r['incident_id']!,
    fingerprint: r['fingerprint']!,
    alertname: r['alertname']!,
    status: r['status'] as IncidentAlert['status'],
    labels: JSON.parse(r['labels']!) as Record<string, string>,
    annotations: JSON.parse(r['annotations']!) as Record<string, string>,
    startsAt: r['starts_at']!,
    endsAt: r['ends_at']!,
    generatorURL: r['generator_url']!,
    lastEventId: r['last_event_id']!,
    updatedAt: r['updated_at']!,
  };
}
