import type { IncidentService } from '../incidents/service.ts';
import type { FetchLike } from '../integrations/http.ts';
import { slackInteractionHandler, type SlackAppConfig } from '../integrations/slack/index.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { ApprovalsConfig } from './config.ts';
import type { ApprovalStore } from './port.ts';
import { ApprovalService, type TaskCompleter } from './service.ts';
import { slackApprovalNotifier, slackDecider } from './slack.ts';

export { approvalsConfigSchema, type ApprovalsConfig } from './config.ts';
export * from './model.ts';
export type { ApprovalStore } from './port.ts';
export { ApprovalService, type DecideResult, type Decider } from './service.ts';

export interface ApprovalsDeps {
  readonly store: ApprovalStore;
  readonly config: ApprovalsConfig;
  /** The `slack` section: posts requests when `approvalWebhookUrl` is set, takes clicks when present. */
  readonly slack?: SlackAppConfig;
  /** server.publicUrl, for links from Slack to the incident in the dashboard. */
  readonly publicUrl?: string;
  readonly tasks: TaskCompleter;
  readonly incidents: IncidentService;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly fetch?: FetchLike;
}

/** Builds the decision service and, when Slack is configured, the handler for its interactions route. */
export function createApprovals(deps: ApprovalsDeps) {
  const log = deps.logger.child({ component: 'approvals' });
  const onError = (err: unknown, context: { approvalId?: string; step: string }) =>
    log.warn({ err: String(err), ...context }, 'approval side effect failed');
  const notifier = deps.slack
    ? slackApprovalNotifier({
        config: deps.slack,
        describeIncident: async (id) => (await deps.incidents.get(id)).incident,
        incidentUrl: (id) =>
          deps.publicUrl
            ? `${deps.publicUrl.replace(/\/+$/, '')}/incidents/${encodeURIComponent(id)}`
            : undefined,
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
      })
    : undefined;
  const service = new ApprovalService({
    store: deps.store,
    tasks: deps.tasks,
    config: deps.config,
    now: deps.now,
    onError,
    ...(notifier ? { notifier } : {}),
    timeline: (incidentId, note) => deps.incidents.record(incidentId, { ...note, kind: 'action' }),
  });
  const slackInteractions = deps.slack
    ? slackInteractionHandler(deps.slack, slackDecider(service), {
        onError,
        now: deps.now,
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
      })
    : undefined;
  return { service, slackInteractions };
}
