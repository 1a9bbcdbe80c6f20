import { AlertmanagerClient } from '../../integrations/alertmanager/client.ts';
import type { FetchLike } from '../../integrations/http.ts';
import { PrometheusClient } from '../../integrations/prometheus/client.ts';
import type { ActionDefinition } from '../types.ts';
import { alertResolvedAction } from './alert-resolved.ts';
import type { VerifyConfig } from './config.ts';
import { httpCheckAction } from './http-check.ts';
import {
  alertmanagerPoller,
  prometheusPoller,
  recheckAlert,
  type AlertRecheck,
  type Poller,
} from './pollers.ts';
import { queryAction } from './query.ts';
import type { AlertQuery, ResolvedSignal } from './resolved-signal.ts';

export { verifyConfigSchema, type VerifyConfig } from './config.ts';
export { VerificationFailedError, VerificationUnavailableError } from './errors.ts';
export {
  ResolvedAlertHub,
  type AlertQuery,
  type ObservedAlert,
  type ResolvedSignal,
} from './resolved-signal.ts';

export type { AlertRecheck } from './pollers.ts';

export interface VerifyDeps {
  readonly config: VerifyConfig;
  /** The resolved-webhook source; ingest feeds it (see ResolvedAlertHub). */
  readonly resolved?: ResolvedSignal;
  readonly fetch?: FetchLike;
}

/** The Prometheus and Alertmanager the `verify` section configures, and the pollers asking them. */
export class VerifySources {
  readonly prometheus: PrometheusClient | undefined;
  readonly pollers: readonly Poller[];

  constructor(config: VerifyConfig, fetch?: FetchLike) {
    const options = fetch ? { fetch } : {};
    this.prometheus = config.prometheus ? new PrometheusClient(config.prometheus, options) : undefined;
    const alertmanager = config.alertmanager
      ? new AlertmanagerClient(config.alertmanager, options)
      : undefined;
    const pollers: Poller[] = [];
    if (alertmanager) pollers.push(alertmanagerPoller(alertmanager));
    if (this.prometheus) pollers.push(prometheusPoller(this.prometheus));
    this.pollers = pollers;
  }

  /** Asks the sources once whether an alert has resolved (undefined: none configured or none answered). */
  recheck(query: AlertQuery, signal: AbortSignal): Promise<AlertRecheck | undefined> {
    return recheckAlert(this.pollers, query, signal);
  }
}

/** Builds the read-only `verify.*` actions from the parsed `verify` config section. */
export function createVerifyActions(
  deps: VerifyDeps,
  sources = new VerifySources(deps.config, deps.fetch),
): ActionDefinition[] {
  const { prometheus, pollers } = sources;
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
