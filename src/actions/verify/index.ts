import { AlertmanagerClient } from '../../integrations/alertmanager/client.ts';
import type { FetchLike } from '../../integrations/http.ts';
import { PrometheusClient } from '../../integrations/prometheus/client.ts';
import type { ActionDefinition } from '../types.ts';
import { alertResolvedAction } from './alert-resolved.ts';
import type { VerifyConfig } from './config.ts';
import { httpCheckAction } from './http-check.ts';
import { alertmanagerPoller, prometheusPoller, type Poller } from './pollers.ts';
import { queryAction } from './query.ts';
import type { ResolvedSignal } from './resolved-signal.ts';

export { verifyConfigSchema, type VerifyConfig } from './config.ts';
export { VerificationFailedError, VerificationUnavailableError } from './errors.ts';
export {
  ResolvedAlertHub,
  type AlertQuery,
  type ObservedAlert,
  type ResolvedSignal,
} from './resolved-signal.ts';

export interface VerifyDeps {
  readonly config: VerifyConfig;
  /** The resolved-webhook source; ingest feeds it (see ResolvedAlertHub). */
  readonly resolved?: ResolvedSignal;
  readonly fetch?: FetchLike;
}

/** Builds the read-only `verify.*` actions from the parsed `verify` config section. */
export function createVerifyActions(deps: VerifyDeps): ActionDefinition[] {
  const options = deps.fetch ? { fetch: deps.fetch } : {};
  const prometheus = deps.config.prometheus
    ? new PrometheusClient(deps.config.prometheus, options)
    : undefined;
  const alertmanager = deps.config.alertmanager
    ? new AlertmanagerClient(deps.config.alertmanager, options)
    : undefined;
  const pollers: Poller[] = [];
  if (alertmanager) pollers.push(alertmanagerPoller(alertmanager));
  if (prometheus) pollers.push(prometheusPoller(prometheus));
  const actions = [
    alertResolvedAction({
      pollers,
      resolved: deps.resolved,
      defaultTimeoutSeconds: deps.config.alertResolved.timeoutSeconds,
      defaultPollIntervalSeconds: deps.config.alertResolved.pollIntervalSeconds,
    }),
    queryAction(prometheus),
    httpCheckAction({ ...deps.config.http, fetch: deps.fetch }),
  ];
  return actions as ActionDefinition[];
}
