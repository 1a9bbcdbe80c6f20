import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ExecutionStatus } from './statuses.ts';

/** The engine's Prometheus metrics: executions by status, state transitions, task latency, timer lag. */
export class WorkflowMetrics {
  readonly executions: Counter<'status'>;
  readonly running: Gauge;
  readonly transitions: Counter;
  readonly taskDuration: Histogram<'resource' | 'outcome'>;
  readonly timerLag: Histogram;

  constructor(registry: Registry) {
    this.executions = new Counter({
      name: 'rebound_workflow_executions_total',
      help: 'Executions that reached a status (RUNNING counts starts and redrives).',
      labelNames: ['status'],
      registers: [registry],
    });
    this.running = new Gauge({
      name: 'rebound_workflow_executions_running',
      help: 'Executions running in this process.',
      registers: [registry],
    });
    this.transitions = new Counter({
      name: 'rebound_workflow_state_transitions_total',
      help: 'States entered by executions in this process.',
      registers: [registry],
    });
    this.taskDuration = new Histogram({
      name: 'rebound_workflow_task_duration_seconds',
      help: 'Time from TaskStarted to the task outcome.',
      labelNames: ['resource', 'outcome'],
      buckets: [0.005, 0.025, 0.1, 0.5, 1, 5, 30, 120, 600, 3600],
      registers: [registry],
    });
    this.timerLag = new Histogram({
      name: 'rebound_workflow_timer_lag_seconds',
      help: 'How late durable timers fired (Wait, retry backoff), including time the engine was down.',
      buckets: [0.001, 0.01, 0.1, 0.5, 1, 5, 30, 300],
      registers: [registry],
    });
  }

  executionStatus(status: ExecutionStatus): void {
    this.executions.inc({ status });
  }
}
