import { resolve, isAbsolute } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { LogConsumer } from './bus/log-consumer.ts';
import type { Config } from './config/schema.ts';
import {
  assertExposureIsAuthenticated,
  isLoopbackHost,
  splitListen,
  WebhookAuthenticator,
} from './http/auth.ts';
import { registerEventRoutes } from './http/routes/events.ts';
import { registerIncidentRoutes } from './http/routes/incidents.ts';
import { registerOpsRoutes } from './http/routes/ops.ts';
import { registerWebhookRoutes } from './http/routes/webhooks.ts';
import { createHttpServer } from './http/server.ts';
import { IncidentProjector } from './incidents/projector.ts';
import { RetentionSweeper } from './incidents/retention.ts';
import { IncidentService } from './incidents/service.ts';
import { AlertmanagerReceiver } from './ingest/alertmanager/receiver.ts';
import { openSqlite, runMigrations } from './store/sqlite/database.ts';
import { SqliteEventStore, eventMigrations } from './store/sqlite/events.ts';
import { GroupCommitter } from './store/sqlite/group-commit.ts';
import { SqliteIncidentStore, incidentMigrations } from './store/sqlite/incidents.ts';
import { createLogger, type Logger } from './telemetry/logger.ts';
import { createMetrics, type CoreMetrics } from './telemetry/metrics.ts';
import { VERSION } from './version.ts';

export interface AppOptions {
  readonly config: Config;
  /** Log destination (default stdout); tests pass a stream to read or silence logs. */
  readonly logDestination?: DestinationStream;
  readonly now?: () => Date;
}

export interface App {
  readonly config: Config;
  readonly logger: Logger;
  readonly metrics: CoreMetrics;
  /** The HTTP server, usable with `inject()` before or without `start()`. */
  readonly http: FastifyInstance;
  readonly incidents: IncidentService;
  readonly events: SqliteEventStore;
  /** Resolves when every event stored so far has been projected onto incidents. */
  settle(): Promise<void>;
  /** Binds the listener and starts background work; resolves with the URL it listens on. */
  start(): Promise<{ url: string }>;
  /** Stops in reverse order of start; safe to call twice. */
  stop(): Promise<void>;
}

const CONSUMER = 'incidents';

/** The composition root: builds every part from validated config, wires them, and tears them down. */
export function createApp(options: AppOptions): App {
  const { config } = options;
  const now = options.now ?? (() => new Date());
  const logger = createLogger({
    level: config.logging.level,
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  const metrics = createMetrics();

  // Store
  const dbPath = storePath(config);
  const db = openSqlite({ path: dbPath, synchronous: config.store.sqlite.synchronous });
  runMigrations(db, [...eventMigrations, ...incidentMigrations]);
  const committer = new GroupCommitter(db);
  committer.observe((ms, units) => {
    metrics.storeCommitLatency.observe(ms / 1000);
    metrics.storeCommitUnits.observe(units);
  });
  const eventStore = new SqliteEventStore(db, committer);
  const incidentStore = new SqliteIncidentStore(db, committer);

  // Incidents: a consumer of the event log projecting alerts onto incidents.
  const projector = new IncidentProjector(incidentStore, config.incidents);
  const incidents = new IncidentService(incidentStore, now);
  const consumer = new LogConsumer({
    name: CONSUMER,
    log: eventStore,
    logger,
    handle: async (batch) => {
      const result = await projector.project(batch.map((b) => b.event));
      await incidentStore.commit(result.changes, { consumer: CONSUMER, seq: batch[batch.length - 1]!.seq });
      metrics.incidentsOpened.inc(result.opened);
      metrics.incidentsResolved.inc(result.resolved);
      const t = now().getTime();
      for (const { event } of batch)
        metrics.pipelineLatency.observe((t - Date.parse(event.receivedAt)) / 1000);
    },
  });
  const sweeper = new RetentionSweeper({
    maxAgeDays: config.incidents.retention.maxAgeDays,
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
    onStored: () => consumer.wake(),
  });
  const { host, port } = splitListen(config.server.listen);
  const { app: http, apiAuth } = createHttpServer({
    config: config.server,
    logger,
    metrics,
    loopbackOnly: isLoopbackHost(host),
  });
  registerWebhookRoutes(http, { receiver, auth: new WebhookAuthenticator(config.server.auth, now), metrics });
  registerIncidentRoutes(http, { incidents });
  registerEventRoutes(http, { events: eventStore });
  registerOpsRoutes(http, {
    registry: metrics.registry,
    checkStore: async () => void db.prepare('SELECT 1').get(),
    beforeScrape: async () => metrics.openIncidents.set(await incidentStore.countOpen()),
    authMode: () => apiAuth.mode,
    version: VERSION,
  });

  let started = false;
  let stopped = false;
  return {
    config,
    logger,
    metrics,
    http,
    incidents,
    events: eventStore,
    settle: () => consumer.drain(),
    async start() {
      assertExposureIsAuthenticated(config.server);
      consumer.start();
      sweeper.start();
      const address = await http.listen({ host, port });
      started = true;
      logger.info({ url: address, data: dbPath, auth: apiAuth.mode }, 'rebound is ready to receive webhooks');
      return { url: address };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await http.close();
      if (started) await sweeper.stop();
      await consumer.stop();
      committer.flush();
      db.close();
      logger.flush();
    },
  };
}

function storePath(config: Config): string {
  const p = config.store.sqlite.path;
  if (p === ':memory:' || isAbsolute(p)) return p;
  return resolve(config.dataDir, p);
}
