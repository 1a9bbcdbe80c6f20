import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve, isAbsolute } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { ClusterDirectory, kubernetesActions, type KubeEnvironment } from './actions/k8s/index.ts';
import { incidentActions, incidentTarget, type IncidentActionDeps } from './actions/incident/index.ts';
import { settleAfterRunbook, type RunbookEnded } from './actions/incident/settle.ts';
import { createNotifiers, notifyActions, routeBySeverity } from './actions/notify/index.ts';
import { recordingRunner } from './actions/recording.ts';
import { ActionRegistry } from './actions/registry.ts';
import { createVerifyActions, ResolvedAlertHub, VerifySources } from './actions/verify/index.ts';
import { effectiveGuardConfig } from './guard/config.ts';
import { GuardedRunner } from './guard/runner.ts';
import type { GuardVerdict } from './guard/verdict.ts';
import { registerAutomationRoutes } from './http/routes/automation.ts';
import { registerWorkflowRoutes } from './http/routes/workflows.ts';
import { approvalActions } from './actions/approval/request.ts';
import { createApprovals, type ApprovalService } from './approvals/index.ts';
import { registerApprovalRoutes } from './http/routes/approvals.ts';
import { registerSlackRoutes } from './http/routes/slack.ts';
import { SqliteApprovalStore, approvalMigrations } from './store/sqlite/approvals.ts';
import { SqliteGuardStore, guardMigrations } from './store/sqlite/guard.ts';
import { SqliteSessionRevocations, sessionMigrations } from './store/sqlite/sessions.ts';
import { SqliteWorkflowStore, workflowMigrations } from './store/sqlite/workflows.ts';
import { Engine } from './workflows/engine.ts';
import { WorkflowMetrics } from './workflows/metrics.ts';
import { loadRunbooks, WorkflowRegistry, type RegisteredWorkflow } from './workflows/registry.ts';
import { incidentContext } from './workflows/task-runner.ts';
import { Bus } from './bus/bus.ts';
import { ReboundError } from './errors.ts';
import { targetsWithoutChannel, type TargetConfig } from './bus/config.ts';
import { createBusMetrics } from './bus/metrics.ts';
import { RuleSet } from './bus/rules.ts';
import { LoadPacer } from './bus/pacer.ts';
import { incidentsTarget } from './bus/targets/incidents.ts';
import { logTarget } from './bus/targets/log.ts';
import { notificationTarget } from './bus/targets/notification.ts';
import type { Target } from './bus/targets/target.ts';
import { webhookTarget } from './bus/targets/webhook.ts';
import { workflowTarget, type WorkflowStarter } from './bus/targets/workflow.ts';
import {
  describeUnstarted,
  exposedSecrets,
  missingRunbooksDir,
  type RunbookReference,
  runbookReferences,
  runbooksDirectory,
  unstartedRunbooks,
} from './config/references.ts';
import type { Config } from './config/schema.ts';
import { ALERT_DETAIL_TYPE, type StoredEvent } from './events/envelope.ts';
import {
  assertExposureIsAuthenticated,
  isLoopbackHost,
  splitListen,
  WebhookAuthenticator,
} from './http/auth.ts';
import { registerBusRoutes } from './http/routes/bus.ts';
import { registerEventRoutes } from './http/routes/events.ts';
import { registerIncidentRoutes } from './http/routes/incidents.ts';
import { registerOpsRoutes } from './http/routes/ops.ts';
import { registerAnalyticsRoutes } from './http/routes/analytics.ts';
import { registerBusStatsRoutes } from './http/routes/bus-stats.ts';
import { registerDashboardRoutes } from './http/routes/dashboard.ts';
import { registerExecutionGraphRoutes } from './http/routes/execution-graph.ts';
import { registerStreamRoutes } from './http/routes/stream.ts';
import { registerSessionRoutes } from './http/session.ts';
import { createLiveNotifier } from './live/wire.ts';
import { SqliteAnalyticsSource } from './store/sqlite/analytics.ts';
import { registerWebhookRoutes } from './http/routes/webhooks.ts';
import { createHttpServer } from './http/server.ts';
import { correlationKey } from './incidents/correlate.ts';
import { INCIDENT_SOURCE, LifecycleEvents } from './incidents/events.ts';
import { IncidentProjector } from './incidents/projector.ts';
import { openingFacts } from './incidents/runbook-routing.ts';
import { RetentionSweeper, type SweepResult } from './incidents/retention.ts';
import type { Incident } from './incidents/model.ts';
import type { IncidentStore } from './incidents/port.ts';
import { IncidentService } from './incidents/service.ts';
import type { AlertDetail } from './ingest/alertmanager/normalise.ts';
import { AlertmanagerReceiver } from './ingest/alertmanager/receiver.ts';
import { SqliteDeliveryStore, busMigrations } from './store/sqlite/bus.ts';
import { BackgroundCheckpointer } from './store/sqlite/checkpointer.ts';
import { openSqlite, runMigrations, type SqliteDatabase } from './store/sqlite/database.ts';
import { SqliteEventStore, eventMigrations } from './store/sqlite/events.ts';
import { GroupCommitter } from './store/sqlite/group-commit.ts';
import { SqliteIncidentStore, incidentMigrations } from './store/sqlite/incidents.ts';
import { createLogger, type Logger } from './telemetry/logger.ts';
import { createMetrics, type CoreMetrics } from './telemetry/metrics.ts';
import { VERSION } from './version.ts';
import { displayUrl } from './integrations/urls.ts';

export interface AppOptions {
  readonly config: Config;
  /** Log destination (default stdout); tests pass a stream to read or silence logs. */
  readonly logDestination?: DestinationStream;
  readonly now?: () => Date;
  /** Re-reads the configuration (SIGHUP, POST /v1/admin/reload); without it reload re-applies `config`. */
  readonly reloadConfig?: () => Promise<Config>;
  /** KUBECONFIG and HOME, for finding kubeconfig files as kubectl does (read by config/, passed in). */
  readonly kubeEnvironment?: KubeEnvironment;
}

export interface App {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: CoreMetrics;
  /** The HTTP server, usable with `inject()`. */
  readonly http: FastifyInstance;
  readonly incidents: IncidentService;
  readonly events: SqliteEventStore;
  readonly bus: Bus;
  readonly engine: Engine;
  readonly workflows: WorkflowRegistry;
  readonly actions: ActionRegistry;
  readonly guard: GuardedRunner;
  /** Pending and decided approvals; the one decision service behind Slack, REST, CLI and dashboard. */
  readonly approvals: ApprovalService;
  /** Resolves when every event stored so far has been routed and every due delivery attempted. */
  settle(): Promise<void>;
  /** Runs one retention pass now (it also runs periodically); returns what was deleted. */
  sweep(): Promise<SweepResult>;
  /** Re-reads the configuration and swaps the bus rules; in-flight deliveries are kept. */
  /**
   * Re-reads the configuration: rules and tokens take effect; `restartNeeded` names the settings that changed
   * but are read only at start (say `server.listen`), so nobody believes a reload applied them.
   */
  reload(): Promise<{ rules: number; restartNeeded: string[] }>;
  /** Binds the listener and starts background work; resolves with the URL it listens on. */
  start(): Promise<{ url: string }>;
  /** Stops in reverse order of start; safe to call twice. */
  stop(): Promise<void>;
}

/** The composition root: builds every part from validated config, wires them, and tears them down. */
export function createApp(options: AppOptions): App {
  const { config } = options;
  const now = options.now ?? (() => new Date());
  const logger = createLogger({
    level: config.logging.level,
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  const metrics = createMetrics();
  const countingSince = now(); // the counters start from zero with this app

  // Store: one SQLite file, one group committer shared by every stage's adapter.
  const dbPath = storePath(config);
  const db = openSqlite({ path: dbPath, synchronous: config.store.sqlite.synchronous });
  runMigrations(db, [
    ...eventMigrations,
    ...incidentMigrations,
    ...busMigrations,
    ...workflowMigrations,
    ...guardMigrations,
    ...approvalMigrations,
    ...sessionMigrations,
  ]);
  const committer = new GroupCommitter(db);
  // WAL checkpoints run in a worker thread, off the path of every commit.
  const checkpointer = dbPath === ':memory:' ? undefined : startCheckpointer(db, dbPath, logger);
  committer.observe((ms, units) => {
    metrics.storeCommitLatency.observe(ms / 1000);
    metrics.storeCommitUnits.observe(units);
  });
  const eventStore = new SqliteEventStore(db, committer);
  // Lifecycle events commit with the incident change; the bus routes them at once (bus is built below).
  const incidentStore = new SqliteIncidentStore(db, committer, {
    log: eventStore,
    onAppended: () => bus.notify(),
  });
  const deliveryStore = new SqliteDeliveryStore(db, committer, eventStore);

  // Incidents
  const lifecycle = new LifecycleEvents({ account: config.ingest.account, region: config.ingest.region });
  const projector = new IncidentProjector(incidentStore, config.incidents, {
    events: lifecycle,
    onOpen: openingFacts(config.incidents.runbooks, (s) => routeBySeverity(s, config.notify.routing)),
  });
  const incidents = new IncidentService(incidentStore, now, lifecycle);
  // Shadow by default: no cluster or no allowlist configured yet → every mutating action is only recorded.
  const guardMode = effectiveGuardConfig(config.guard, Object.keys(config.kubernetes.clusters).length > 0);

  // Actions behind guard rails, run by the workflow engine.
  const resolvedAlerts = new ResolvedAlertHub();
  // Approvals resume executions through the engine, built below; the closures run only after start.
  const approvalStore = new SqliteApprovalStore(db, committer);
  const approvals = createApprovals({
    store: approvalStore,
    config: config.approvals,
    ...(config.slack ? { slack: config.slack } : {}),
    ...(config.server.publicUrl ? { publicUrl: config.server.publicUrl } : {}),
    tasks: {
      sendTaskSuccess: (token, output) => engine.sendTaskSuccess(token, { ...output }),
      sendTaskFailure: (token, error, cause) => engine.sendTaskFailure(token, error, cause),
    },
    incidents,
    logger,
    now,
  });
  const clusters = new ClusterDirectory(config.kubernetes, options.kubeEnvironment ?? {});
  // One notifier per configured channel, shared by runbook actions and bus targets.
  const notifiers = createNotifiers(config.notify);
  // The Prometheus and Alertmanager verification asks: verify.* actions, and incident.remediated's recheck.
  const verifySources = new VerifySources(config.verify);
  const incidentDeps: IncidentActionDeps = {
    incidents,
    notifiers,
    routing: config.notify.routing,
    retry: { attempts: config.notify.attempts },
    breaker: {
      recordOutcome: (scope, success, executionId) => guard.recordOutcome(scope, success, executionId),
    },
    scopeOf: incidentTarget((labels) => clusters.select(undefined, labels)),
    isShadow: (runbook) =>
      guardMode.config.shadow.global ||
      (runbook !== undefined && guardMode.config.shadow.runbooks.includes(runbook)),
    ...(config.server.publicUrl ? { publicUrl: config.server.publicUrl } : {}),
    recheck: (query, signal) => verifySources.recheck(query, signal),
  };
  /** Cancels what settling incidents sends when the app stops. */
  const lifetime = new AbortController();
  /** Incidents being settled after their runbook ended (app.settle and stop wait for them). */
  const settling = new Set<Promise<unknown>>();
  /** The last settle of each incident: one at a time per incident, each seeing what the previous did. */
  const lastSettle = new Map<string, Promise<unknown>>();
  const settleIncident = (ended: RunbookEnded) => {
    const before = lastSettle.get(ended.incidentId) ?? Promise.resolve();
    const done = before
      .then(() =>
        // Another execution still working on the incident (a replay, a second rule) settles it when it ends.
        engine.isWorkingOn(ended.incidentId)
          ? ('unchanged' as const)
          : settleAfterRunbook(incidentDeps, ended, { signal: lifetime.signal, now }),
      )
      .then((outcome) => {
        if (outcome !== 'unchanged')
          logger.info(
            { incidentId: ended.incidentId, executionId: ended.executionId, outcome },
            'runbook ended: incident ' + outcome,
          );
      })
      .catch((err: unknown) =>
        logger.error(
          { err: String(err), incidentId: ended.incidentId },
          'settling an incident after its runbook failed',
        ),
      )
      .finally(() => {
        settling.delete(done);
        if (lastSettle.get(ended.incidentId) === done) lastSettle.delete(ended.incidentId);
      });
    settling.add(done);
    lastSettle.set(ended.incidentId, done);
  };
  const actions: ActionRegistry = new ActionRegistry([
    ...kubernetesActions({ clusters }),
    ...createVerifyActions({ config: config.verify, resolved: resolvedAlerts }, verifySources),
    ...notifyActions(config.notify, notifiers),
    ...incidentActions(incidentDeps),
    ...approvalActions(approvals.service),
  ]);
  const guard: GuardedRunner = new GuardedRunner({
    // Every action run for an incident lands on its timeline, with the writes sent or (shadow) intended.
    inner: recordingRunner(actions, {
      mutating: (name) => actions.find(name)?.mutating === true,
      record: (entry) =>
        incidents
          .record(entry.incidentId, {
            actor: entry.runbook ? `runbook:${entry.runbook}` : 'rebound',
            kind: 'action',
            description: entry.description,
            data: entry,
            correlationId: entry.correlationId,
          })
          .catch((err: unknown) =>
            logger.error({ err: String(err), incidentId: entry.incidentId }, 'recording an action failed'),
          ),
      // approval.* write their own entries (and their parameters carry the task token).
      skip: (name) => name.startsWith('incident.') || name.startsWith('approval.'),
    }),
    actions: (name) => (actions.has(name) ? actions.get(name) : undefined),
    store: new SqliteGuardStore(db, committer),
    config: guardMode.config,
    ...(guardMode.mode.reason === 'default' ? { shadowUntilConfigured: guardMode.mode.missing } : {}),
    incidents: {
      async getIncidentFiringState(incidentId) {
        const incident = await incidentStore.getIncident(incidentId);
        if (!incident) return 'unknown';
        return incident.firingCount > 0 ? 'firing' : 'resolved';
      },
    },
    now,
    registry: metrics.registry,
    onVerdict: async (verdict) => {
      if (verdict.incidentId)
        await incidents.record(verdict.incidentId, verdictNote(verdict)).catch(() => undefined);
    },
    onStoreError: (err, what) =>
      logger.error({ err: String(err), what }, 'guard store write failed after acting'),
  });
  // Registered runbooks, inline definitions and POST /v1/workflows/validate check Task resources alike.
  const knownActions = actions.names; // live: actions registered after start count too
  const workflowRegistry = new WorkflowRegistry({ knownActions });
  const workflowStore = new SqliteWorkflowStore(db, committer);
  const engine = new Engine({
    store: workflowStore,
    runner: guard,
    registry: workflowRegistry,
    knownActions,
    workerId: config.workflows.workerId,
    leaseMs: config.workflows.leaseSeconds * 1000,
    reaperIntervalMs: config.workflows.reaperIntervalSeconds * 1000,
    stopGraceMs: config.workflows.stopGraceSeconds * 1000,
    tokenSecret: config.workflows.tokenSecret ?? localSecret(resolve(config.dataDir, 'task-token.secret')),
    metrics: new WorkflowMetrics(metrics.registry),
    onError: (executionId, err) => logger.error({ executionId, err: String(err) }, 'workflow engine error'),
    onExecutionStatus: ({ record, status, error, cause }) => {
      const { incidentId } = incidentContext(record.input);
      if (incidentId === undefined) return;
      const ended = status === 'RUNNING' ? 'started' : `ended ${status}`;
      // A Fail state may give a Cause and no Error.
      const why = error ? `: ${error}${cause ? ` (${cause})` : ''}` : cause ? `: ${cause}` : '';
      const recorded = incidents
        .record(incidentId, {
          actor: `runbook:${record.machineName}`,
          kind: 'execution',
          description: `runbook ${record.machineName} ${ended}${why}`,
          data: { executionId: record.id, runbook: record.machineName, status, error, cause },
          correlationId: record.correlationId ?? null,
        })
        .catch((err: unknown) =>
          logger.error({ err: String(err), incidentId }, 'recording an execution failed'),
        );
      if (status !== 'RUNNING')
        void recorded.then(() =>
          settleIncident({
            incidentId,
            ending: `runbook ${record.machineName} ${ended}${why}`,
            runbook: record.machineName,
            executionId: record.id,
            correlationId: record.correlationId ?? undefined,
          }),
        );
    },
  });
  const workflows: WorkflowStarter = {
    startExecution: ({ workflow, input, name, correlationId }) =>
      engine.startExecution(workflow, input as never, { name, correlationId }),
  };

  // Bus: rules route every stored event to their targets.
  const makeTarget = (target: TargetConfig): Target => {
    switch (target.kind) {
      case 'incidents':
        return incidentsTarget({ projector, store: incidentStore, metrics, now });
      case 'log':
        return logTarget(logger, target.level);
      case 'webhook':
        return webhookTarget({ ...target, now });
      case 'workflow':
        return workflowTarget(target.workflow, () => workflows);
      case 'slack':
      case 'pagerduty':
      case 'email':
        return notificationTarget({
          notifier: notifiers[target.kind],
          channel: target.kind,
          transformed: target.input !== undefined,
          ...(config.server.publicUrl ? { publicUrl: config.server.publicUrl } : {}),
        });
    }
  };
  // Events about one incident reach each target in order: its alerts by correlation key, its lifecycle
  // events by incident (a follow-up's "acknowledged" never overtakes "resolved"); anything else is unordered.
  const orderingKey = (event: StoredEvent): string => {
    if (event.envelope['detail-type'] === ALERT_DETAIL_TYPE)
      return correlationKey((event.envelope.detail as AlertDetail).labels, '', config.incidents.correlation)
        .key;
    const incidentId =
      event.envelope.source === INCIDENT_SOURCE ? event.envelope.detail['incidentId'] : undefined;
    return typeof incidentId === 'string' ? `incident:${incidentId}` : event.envelope.id;
  };
  // Under an alert storm, acknowledging webhooks comes first; routing and the projection follow the log.
  const pacer = new LoadPacer({ foregroundWaiting: () => eventStore.pendingDepth() > 0 });
  const rulesAtStart = new RuleSet(config.bus.rules);
  const bus = new Bus(
    {
      pacer,
      log: eventStore,
      events: eventStore,
      store: deliveryStore,
      metrics: createBusMetrics(metrics.registry),
      logger,
      makeTarget,
      orderingKey,
      now: () => now().getTime(),
      whenDurable: (callback) => committer.whenDurable(callback),
    },
    rulesAtStart,
  );
  // Channel endpoints are read at start; rules and the webhook and API tokens are reloaded. A rule sending to
  // a channel this process started without is refused at reload (the rules in force stay), not dead-lettered
  // event by event; so is a configuration that would leave an exposed server without authentication.
  let publicMetrics = config.server.auth.publicMetrics;
  const reload = async () => {
    const next = options.reloadConfig ? await options.reloadConfig() : config;
    assertExposureIsAuthenticated({ ...next.server, listen: config.server.listen }, exposedSecrets(next));
    const missing = targetsWithoutChannel(next.bus.rules, (kind) => notifiers[kind] !== undefined);
    if (missing.length > 0)
      throw new ReboundError(
        'INVALID_CONFIG',
        `rules send to channels this process started without: ${missing.map((m) => m.label).join(', ')}; ` +
          'channel settings are read at start, so restart Rebound to use them (the rules in force are kept)',
      );
    // A half-written file must not open a server that was closed: opening one takes a restart.
    const opening = [
      ...(apiAuth.mode === 'token' && next.server.auth.apiTokens.length === 0
        ? ['server.auth.apiTokens']
        : []),
      ...(webhookAuth.enabled && next.server.auth.webhookTokens.length === 0 && !next.server.auth.hmac
        ? ['server.auth.webhookTokens (or server.auth.hmac)']
        : []),
    ];
    if (opening.length > 0)
      throw new ReboundError(
        'INVALID_CONFIG',
        `the reloaded configuration has no ${opening.join(' and no ')}, which would let every local user in ` +
          'without a token; to run open, restart Rebound with it (the tokens in force are kept)',
      );
    bus.reload(new RuleSet(next.bus.rules));
    const modeBefore = apiAuth.mode;
    apiAuth.reconfigure(next.server.auth);
    if (apiAuth.mode !== modeBefore)
      logger.warn({ auth: apiAuth.mode }, 'the reloaded configuration has API tokens: the API now needs one');
    webhookAuth.reconfigure(next.server.auth);
    publicMetrics = next.server.auth.publicMetrics;
    return { rules: bus.ruleSet.rules.size, restartNeeded: settingsReadAtStart(config, next) };
  };

  const sweeper = new RetentionSweeper({
    incidentMaxAgeDays: config.incidents.retention.maxAgeDays,
    eventMaxAgeDays: config.bus.archiveRetentionDays,
    executionMaxAgeDays: config.workflows.retention.maxAgeDays,
    executions: workflowStore,
    approvals: approvalStore,
    intervalSeconds: config.incidents.retention.sweepIntervalSeconds,
    incidents: incidentStore,
    events: eventStore,
    logger,
    now,
  });

  // Ingest + HTTP
  const receiver = new AlertmanagerReceiver({
    writer: eventStore,
    config: config.ingest,
    metrics,
    now,
    onStored: (stored) => {
      bus.notify();
      for (const event of stored) resolvedAlerts.observe(event.envelope.detail as AlertDetail);
    },
  });
  const { host, port } = splitListen(config.server.listen);
  const sessionRevocations = new SqliteSessionRevocations(db, committer);
  const {
    app: http,
    apiAuth,
    sessions,
  } = createHttpServer({
    config: config.server,
    logger,
    metrics,
    loopbackOnly: isLoopbackHost(host),
    sessionSecret: localSecret(resolve(config.dataDir, 'session.secret')),
    sessionRevocations,
    now,
    webhooksOpen: () => !webhookAuth.enabled,
  });
  // Dashboard: live updates from the stores' writes, sessions, analytics, the bundle itself.
  const live = createLiveNotifier({
    incidents: incidentStore,
    workflows: workflowStore,
    deliveries: deliveryStore,
    approvals: approvalStore,
  });
  registerSessionRoutes(http, sessions);
  registerStreamRoutes(http, { live });
  registerAnalyticsRoutes(http, { source: new SqliteAnalyticsSource(db), now });
  registerBusStatsRoutes(http, {
    bus,
    deliveries: deliveryStore,
    registry: metrics.registry,
    countingSince,
  });
  registerExecutionGraphRoutes(http, { engine });
  registerDashboardRoutes(http, {
    version: VERSION,
    links: {
      // Links for people: never the credentials or query the server's own calls may carry.
      ...(config.verify.prometheus ? { prometheus: displayUrl(config.verify.prometheus.url) } : {}),
      ...(config.verify.alertmanager ? { alertmanager: displayUrl(config.verify.alertmanager.url) } : {}),
    },
  });
  const webhookAuth = new WebhookAuthenticator(config.server.auth, now);
  registerWebhookRoutes(http, { receiver, auth: webhookAuth, metrics });
  registerIncidentRoutes(http, { incidents });
  registerEventRoutes(http, { events: eventStore });
  registerBusRoutes(http, {
    bus,
    deliveries: deliveryStore,
    writer: eventStore,
    account: config.ingest.account,
    region: config.ingest.region,
    now,
    reload,
    onStored: () => bus.notify(),
  });
  registerWorkflowRoutes(http, {
    engine,
    registry: workflowRegistry,
    validation: { knownActions },
    approvalOf: (token) => approvals.service.approvalOf(token),
  });
  registerAutomationRoutes(http, {
    automation: {
      status: async () => ({ ...(await guard.automation.status()), mode: guardMode.mode }),
      pause: (input) => guard.automation.pause(input),
      resume: (input) => guard.automation.resume(input),
    },
  });
  registerApprovalRoutes(http, { approvals: approvals.service });
  registerSlackRoutes(http, approvals.slackInteractions ? { handle: approvals.slackInteractions } : {});
  registerOpsRoutes(http, {
    registry: metrics.registry,
    checkStore: async () => void db.prepare('SELECT 1').get(),
    beforeScrape: async () => {
      metrics.openIncidents.set(await incidentStore.countOpen());
      await bus.refreshGauges();
    },
    authMode: () => apiAuth.mode,
    publicMetrics: () => publicMetrics,
    version: VERSION,
  });

  let started = false;
  let stopped = false;
  let pruner: NodeJS.Timeout | undefined;
  return {
    config,
    logger,
    metrics,
    http,
    incidents,
    events: eventStore,
    bus,
    engine,
    workflows: workflowRegistry,
    actions,
    guard,
    approvals: approvals.service,
    settle: async () => {
      await bus.drain();
      if (settling.size === 0) return;
      await Promise.all(settling);
      await bus.drain(); // what settling them announced
    },
    sweep: () => sweeper.sweep(),
    reload,
    async start() {
      assertExposureIsAuthenticated(config.server, exposedSecrets(config));
      const {
        directory: runbooks,
        loaded,
        unloaded,
      } = await loadConfiguredRunbooks(config, workflowRegistry);
      if (loaded) {
        logger.info(
          { runbooks: loaded.map((r) => r.name) },
          `loaded ${loaded.length} runbook(s) from ${runbooks}`,
        );
      } else {
        logger.warn(
          { runbooksDir: runbooks },
          `no runbooks loaded: ${runbooks} does not exist; set workflows.runbooksDir to your runbooks directory`,
        );
      }
      // Only a warning: runbooks are also registered in code (app.workflows), after start included.
      if (unloaded.length > 0)
        logger.warn(
          { unloaded },
          `the configuration names runbooks that are not loaded: ` +
            unloaded.map((r) => `${r.path} (${r.runbook})`).join(', ') +
            `; incidents routed to them are not remediated until ${runbooks} has them`,
        );
      for (const r of unstartedRunbooks(config, rulesAtStart))
        logger.warn({ runbook: r.runbook, path: r.path }, describeUnstarted(r));
      // Actions on such a cluster fail until it is fixed: say so now rather than at 2 AM.
      for (const p of clusters.credentialProblems())
        logger.warn({ cluster: p.cluster }, `kubernetes.clusters.${p.cluster}: ${p.message}`);
      // The resolved webhooks a verification may be waiting for are kept in memory: what the alerts of
      // incidents under automation last said is read back first, so a runbook resumed after a restart sees
      // a resolution that arrived before it (Alertmanager does not send it again).
      const held = await incidentsUnderAutomation(incidents);
      await seedResolvedAlerts(held, incidentStore, resolvedAlerts);
      await engine.start();
      // A runbook that ended while the process was going down never had its incident settled.
      await settleOrphanedIncidents(held, engine, settleIncident);
      approvals.service.start();
      bus.start();
      sweeper.start();
      pruner = setInterval(() => {
        guard.prune().catch((err: unknown) => logger.error({ err: String(err) }, 'guard prune failed'));
        sessionRevocations
          .prune(now().getTime())
          .catch((err: unknown) => logger.error({ err: String(err) }, 'pruning signed-out sessions failed'));
      }, config.incidents.retention.sweepIntervalSeconds * 1000);
      pruner.unref();
      started = true;
      const address = await http.listen({ host, port });
      logger.info(
        { url: address, data: dbPath, auth: apiAuth.mode, automation: guardMode.mode.mode },
        'rebound is ready to receive webhooks',
      );
      if (guardMode.mode.reason === 'default')
        logger.warn({ missing: guardMode.mode.missing }, guardMode.mode.message);
      return { url: address };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await http.close();
      clearInterval(pruner);
      if (started) await sweeper.stop();
      await bus.stop();
      pacer.stop();
      await approvals.service.stop();
      const { cutOff } = await engine.stop();
      if (cutOff > 0)
        logger.warn(
          { actions: cutOff, graceSeconds: config.workflows.stopGraceSeconds },
          'task actions still running at the end of the stop grace period were cut off; their executions resume after the restart',
        );
      // Incidents being settled finish (their pages are sent, or announced undelivered) before the store
      // closes; what is still sending after a grace period is cancelled.
      await Promise.race([Promise.allSettled(settling), delay(SETTLE_GRACE_MS, undefined, { ref: false })]);
      lifetime.abort();
      await Promise.allSettled(settling);
      await checkpointer?.stop();
      committer.flush();
      db.close();
      logger.flush();
    },
  };
}

/** The incidents runbooks are working on (`remediating`, `verifying`), read once at start. */
async function incidentsUnderAutomation(incidents: IncidentService): Promise<Incident[]> {
  const held: Incident[] = [];
  for (let cursor: string | undefined; ;) {
    const page = await incidents.list({
      status: ['remediating', 'verifying'],
      limit: 500,
      ...(cursor ? { cursor } : {}),
    });
    held.push(...page.items);
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  return held;
}

/** Feeds the hub the last state of every alert of `held` incidents. */
async function seedResolvedAlerts(
  held: readonly Incident[],
  store: Pick<IncidentStore, 'listAlerts'>,
  hub: ResolvedAlertHub,
): Promise<void> {
  for (const incident of held) for (const alert of await store.listAlerts(incident.id)) hub.observe(alert);
}

/** How long stopping waits for incidents being settled before it cancels what they are still sending. */
const SETTLE_GRACE_MS = 10_000;

/**
 * Of the incidents a runbook was working on (`held`, read before the engine started), those with no
 * execution running for them any more: their runbook ended while the process was stopping, before it could
 * settle them (see settleAfterRunbook; it reads each again). Runs once at start, after the engine has resumed
 * its executions.
 */
async function settleOrphanedIncidents(
  held: readonly Incident[],
  engine: Engine,
  settle: (ended: RunbookEnded) => void,
): Promise<void> {
  const working = new Map(held.map((incident) => [incident.id, incident]));
  if (working.size === 0) return;
  for (let cursor: string | undefined; ;) {
    const page = await engine.list({ status: 'RUNNING', limit: 500, cursor });
    for (const summary of page.items) {
      const { incidentId } = incidentContext((await engine.describe(summary.id)).input);
      if (incidentId !== undefined) working.delete(incidentId);
    }
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  for (const incident of working.values())
    settle({
      incidentId: incident.id,
      ending: 'its runbook ended while Rebound was stopping',
      correlationId: incident.correlationId,
    });
}

/** Background checkpoints, or SQLite's own on commit when no worker thread can be started. */
function startCheckpointer(db: SqliteDatabase, path: string, logger: Logger) {
  try {
    return new BackgroundCheckpointer(db, path, { logger });
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'no checkpoint worker; the database checkpoints on commit');
    return undefined;
  }
}

/**
 * Loads the runbooks of the configured directory into `registry`, as start-up does (and `rebound validate`):
 * a configured directory that is missing is a typo to fix now; the default one may simply not exist
 * (`loaded` is then undefined). `unloaded` are the runbooks the configuration names that the registry lacks.
 */
export async function loadConfiguredRunbooks(
  config: Config,
  registry: WorkflowRegistry,
): Promise<{ directory: string; loaded?: RegisteredWorkflow[]; unloaded: RunbookReference[] }> {
  const { path: directory, configured } = runbooksDirectory(config);
  let loaded: RegisteredWorkflow[] | undefined;
  if (existsSync(directory)) loaded = await loadRunbooks(registry, directory);
  else if (configured) throw missingRunbooksDir(directory);
  const unloaded = runbookReferences(config).filter((r) => registry.get(r.runbook) === undefined);
  return { directory, ...(loaded ? { loaded } : {}), unloaded };
}

function storePath(config: Config): string {
  const p = config.store.sqlite.path;
  if (p === ':memory:' || isAbsolute(p)) return p;
  return resolve(config.dataDir, p);
}

function verdictNote(v: GuardVerdict) {
  const target = `${v.target.kind} ${v.target.namespace ? `${v.target.namespace}/` : ''}${v.target.name}`;
  return {
    actor: 'guard',
    kind: 'guard.verdict' as const,
    description: `${v.action} on ${target}: ${v.outcome} by ${v.rule} (${v.reason})`,
    data: v,
    correlationId: v.correlationId ?? null,
  };
}

/** A random secret generated on first start and kept (owner-only) beside the data, so restarts agree on it. */
function localSecret(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
  return secret;
}

/**
 * The settings that differ between two configurations but take effect only at start: everything except the
 * bus's rules and the server's tokens, which a reload applies. Named at the depth an operator edits them
 * (`server.listen`, `guard`).
 */
function settingsReadAtStart(running: Config, next: Config): string[] {
  const changed: string[] = [];
  // Not JSON text: a map's keys keep the file's order, and reordering them changes nothing.
  const differs = (a: unknown, b: unknown) => !isDeepStrictEqual(a, b);
  for (const key of Object.keys({ ...running, ...next }) as (keyof Config)[]) {
    if (key === 'server' || key === 'bus') {
      const reloaded = key === 'server' ? 'auth' : 'rules';
      const a = running[key] as Record<string, unknown>;
      const b = next[key] as Record<string, unknown>;
      for (const sub of Object.keys({ ...a, ...b }))
        if (sub !== reloaded && differs(a[sub], b[sub])) changed.push(`${key}.${sub}`);
    } else if (differs(running[key], next[key])) changed.push(key);
  }
  return changed;
}
