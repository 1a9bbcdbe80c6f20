/**
 * The REST API's views that the dashboard reads, in one dependency-free file: the server builds its answers
 * against these types and the dashboard imports them (types only), so the two cannot drift apart.
 */

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** `GET /v1/executions/{id}` and each item of `GET /v1/executions` (times as ISO-8601). */
export interface ExecutionView {
  readonly executionId: string;
  readonly name: string;
  readonly workflow: string;
  readonly status: ExecutionStatus;
  readonly startDate: string;
  readonly stopDate?: string | undefined;
  readonly input?: unknown;
  readonly output?: unknown;
  readonly error?: string | undefined;
  readonly cause?: string | undefined;
  readonly correlationId?: string | undefined;
  readonly redriveCount: number;
}

/** One target of `GET /v1/bus/stats`: counters since the process started, depths now. */
export interface TargetStats {
  readonly name: string;
  readonly kind: string;
  readonly delivered: number;
  readonly failed: number;
  readonly retried: number;
  readonly deadLettered: number;
  readonly queueDepth: number;
  readonly dlqDepth: number;
}

/** `GET /v1/bus/stats`. */
export interface BusStats {
  /** When this process started counting (ISO-8601): the counters restart with it, like Prometheus counters. */
  readonly countingSince: string;
  readonly rules: readonly RuleStats[];
}

/** One rule of `GET /v1/bus/stats`. */
export interface RuleStats {
  readonly name: string;
  readonly description: string | null;
  readonly enabled: boolean;
  readonly matched: number;
  readonly targets: readonly TargetStats[];
}

/** `POST /v1/replays` and `GET /v1/replays/{id}`: a replay of archived events and how far it got. */
export interface ReplayProgress {
  readonly id: string;
  readonly state: 'running' | 'completed' | 'failed';
  readonly total: number;
  readonly scanned: number;
  readonly matched: number;
  readonly deliveries: number;
  readonly dryRun: boolean;
  readonly error?: string;
}
