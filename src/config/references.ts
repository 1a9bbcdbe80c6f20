import { resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { runbookRule } from '../bus/config.ts';
import { RuleSet } from '../bus/rules.ts';
import { ReboundError } from '../errors.ts';
import { INCIDENT_DETAIL_TYPES, INCIDENT_SOURCE } from '../incidents/events.ts';
import { DEFAULT_RUNBOOKS_DIR, type Config } from './schema.ts';

/** A place in the configuration that names a runbook (workflow), by key path. */
export interface RunbookReference {
  /** e.g. `incidents.runbooks.routes[0].runbook`, `bus.rules[2].targets[0].workflow`. */
  readonly path: string;
  readonly runbook: string;
}

/** Every runbook the configuration names: incident routes, the fallback and bus `workflow` targets. */
export function runbookReferences(config: Config): RunbookReference[] {
  const routing = config.incidents.runbooks;
  return [
    ...routing.routes.map((route, i) => ({
      path: `incidents.runbooks.routes[${i}].runbook`,
      runbook: route.runbook,
    })),
    { path: 'incidents.runbooks.fallback', runbook: routing.fallback },
    ...config.bus.rules.flatMap((rule, i) =>
      rule.targets.flatMap((target, j) =>
        target.kind === 'workflow'
          ? [{ path: `bus.rules[${i}].targets[${j}].workflow`, runbook: target.workflow }]
          : [],
      ),
    ),
  ];
}

/** The runbooks incident routing names: its routes and its fallback. */
function routingReferences(config: Config): RunbookReference[] {
  return runbookReferences(config).filter((r) => r.path.startsWith('incidents.'));
}

/**
 * The runbooks incident routing chooses (routes and fallback) that no enabled bus rule starts: `bus.rules`
 * replaces the default rules, whose `runbook.<name>` rules start the routed runbook on `Incident Opened`, so a
 * configuration that lists its own rules without them routes incidents to runbooks that never run.
 */
export function unstartedRunbooks(
  config: Config,
  rules: RuleSet = new RuleSet(config.bus.rules),
): RunbookReference[] {
  const routing = routingReferences(config);
  return routing.filter(({ runbook }) => {
    // What the projector announces when it opens an incident routed to `runbook`, as far as rules can tell.
    const opened = {
      version: '0',
      id: 'opened',
      source: INCIDENT_SOURCE,
      'detail-type': INCIDENT_DETAIL_TYPES.opened,
      account: config.ingest.account,
      region: config.ingest.region,
      time: new Date(0).toISOString(),
      resources: [],
      detail: { runbook },
    };
    return !rules
      .match(opened)
      .some((rule) => rule.targets.some(({ config: t }) => t.kind === 'workflow' && t.workflow === runbook));
  });
}

/** Says why a routed runbook never starts, and what to add. */
export function describeUnstarted(r: RunbookReference): string {
  return (
    `${r.path} routes incidents to runbook '${r.runbook}', but no bus rule starts it: bus.rules replaces ` +
    `the default rules, so add the rule runbook.${r.runbook} (a workflow target for '${r.runbook}' on ` +
    `"Incident Opened" events whose detail.runbook is '${r.runbook}'; GET /v1/rules on a default install shows it)`
  );
}

/** Where runbooks are read from (against the working directory), and whether the configuration chose it. */
export function runbooksDirectory(config: Config): { path: string; configured: boolean } {
  const configured = config.workflows.runbooksDir;
  return { path: resolve(configured ?? DEFAULT_RUNBOOKS_DIR), configured: configured !== undefined };
}

/** A configured runbooks directory that is missing: a typo to fix before start (the default may be absent). */
export function missingRunbooksDir(path: string): ReboundError {
  return new ReboundError(
    'INVALID_CONFIG',
    `workflows.runbooksDir: ${path} does not exist; create it, correct the path, ` +
      `or remove the key to use ./${DEFAULT_RUNBOOKS_DIR}`,
    { path: 'workflows.runbooksDir' },
  );
}

/** Secrets outside `server.auth` that requests are checked with, for the placeholder check at exposure. */
export function exposedSecrets(config: Config): { path: string; value: string | undefined }[] {
  return [{ path: 'slack.signingSecret', value: config.slack?.signingSecret }];
}

/**
 * Loaded runbooks nothing starts: neither incident routing (routes, fallback) nor a bus rule other than the
 * one that starts a runbook when routing chose it (`runbookRule`, the default rules hold one per shipped
 * runbook). Routes, when given, replace the shipped ones, so a shipped runbook left out of them never runs.
 */
export function unreachedRunbooks(config: Config, loaded: readonly string[]): string[] {
  const routed = new Set(routingReferences(config).map((r) => r.runbook));
  const started = new Set(
    config.bus.rules.flatMap((rule) =>
      // A disabled rule starts nothing (RuleSet skips it).
      (rule.enabled ? rule.targets : []).flatMap((t) =>
        t.kind === 'workflow' && !isDeepStrictEqual(rule.pattern, runbookRule(t.workflow).pattern)
          ? [t.workflow]
          : [],
      ),
    ),
  );
  return loaded.filter((name) => !routed.has(name) && !started.has(name));
}
