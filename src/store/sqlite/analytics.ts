import type {
  AnalyticsAction,
  AnalyticsExecution,
  AnalyticsIncident,
  AnalyticsSource,
} from '../../incidents/analytics.ts';
import type { SqliteDatabase } from './database.ts';

/**
 * The analytics read side on SQLite: range queries over incidents (by opened_at, indexed), their timelines
 * and the executions whose input names an incident. Reads only; nothing here writes.
 */
export class SqliteAnalyticsSource implements AnalyticsSource {
  private readonly stmts;

  constructor(db: SqliteDatabase) {
    this.stmts = {
      incidents: db.prepare(`
        SELECT i.id, i.service, json_extract(i.labels, '$.alertname') AS alertname, i.opened_at AS openedAt,
          (SELECT MIN(t.at) FROM timeline t WHERE t.incident_id = i.id AND t.kind = 'status.changed'
             AND json_extract(t.data, '$.to') IN ('acknowledged', 'remediating')) AS respondedAt,
          i.resolved_at AS resolvedAt, i.escalated_at AS escalatedAt
        FROM incidents i
        WHERE i.opened_at >= @from AND i.opened_at < @to AND (@service IS NULL OR i.service = @service)
        ORDER BY i.opened_at`),
      actions: db.prepare(`
        SELECT t.incident_id AS incidentId, json_extract(t.data, '$.action') AS action,
          json_extract(t.data, '$.outcome') AS outcome, json_extract(t.data, '$.mutating') AS mutating, t.at
        FROM incidents i JOIN timeline t ON t.incident_id = i.id
        WHERE i.opened_at >= @from AND i.opened_at < @to AND t.kind = 'action'
          AND json_valid(t.data) AND json_extract(t.data, '$.action') IS NOT NULL`),
      executions: db.prepare(`
        SELECT json_extract(input, '$.incidentId') AS incidentId, machine_name AS runbook, status, start_time AS startTime
        FROM wf_executions
        WHERE start_time >= @from AND json_valid(input) AND json_type(input, '$.incidentId') = 'text'`),
    };
  }

  async incidents(from: string, to: string, service?: string): Promise<AnalyticsIncident[]> {
    return this.stmts.incidents.all({ from, to, service: service ?? null }) as AnalyticsIncident[];
  }

  async actions(from: string, to: string): Promise<AnalyticsAction[]> {
    const rows = this.stmts.actions.all({ from, to }) as (Omit<AnalyticsAction, 'mutating'> & {
      mutating: 0 | 1 | null;
    })[];
    return rows.map(({ mutating, ...row }) =>
      mutating === null ? row : { ...row, mutating: mutating === 1 },
    );
  }

  async executions(from: string): Promise<AnalyticsExecution[]> {
    const rows = this.stmts.executions.all({ from: Date.parse(from) }) as {
      incidentId: string;
      runbook: string;
      status: string;
      startTime: number;
    }[];
    return rows.map((r) => ({
      incidentId: r.incidentId,
      runbook: r.runbook,
      status: r.status,
      startedAt: new Date(r.startTime).toISOString(),
    }));
  }
}
