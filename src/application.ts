/**
 * Composition root: wires configuration into adapters, services, GraphQL and
 * HTTP. Tests call `startApplication` with an in-memory publisher; `main.ts`
 * adds process concerns (signals, exit codes).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { createAccessTokenVerifier } from "./auth/access-token";
import { signDevelopmentToken } from "./auth/development-token";
import type { Config } from "./config/config";
import { CoalescingEventPublisher } from "./events/coalescing-event-publisher";
import { DaprEventPublisher } from "./events/dapr-event-publisher";
import { createSidecarProbe, type SidecarStatus } from "./events/dapr-sidecar-probe";
import { openDatabase, type Database } from "./db/database";
import { EventHistoryService } from "./events/event-history.service";
import type { EventPublisher } from "./events/event-publisher";
import { IdempotencyKeys } from "./events/idempotency-keys";
import { OutboxRelay, type OutboxRelayOptions } from "./events/outbox-relay";
import { OutboxRepository } from "./events/outbox.repository";
import { PostgresAdvisoryLeadership, soleRelay } from "./events/relay-leadership";
import { TodoEventDelivery } from "./events/todo-event-delivery";
import { TodoEventFeed } from "./events/todo-event-feed";
import { TodoEventService } from "./events/todo-event.service";
import { createApolloServer } from "./graphql/apollo-server";
import type { Services } from "./graphql/context";
import { createContextFactory } from "./graphql/context-factory";
import { RateLimiter } from "./graphql/limits/rate-limiter";
import { createRequestPolicy } from "./graphql/request-policy";
import { buildGraphQLSchema } from "./graphql/schema";
import { createExpressApp } from "./http/app";
import { attachGraphQLWebSocket } from "./http/graphql-websocket";
import { createLogger, type Logger } from "./logging/logger";
import { MeteredEventPublisher } from "./events/metered-event-publisher";
import { createMetrics, type Metrics } from "./metrics/metrics";
import { TodoRepository } from "./todos/todo.repository";
import { TodoService } from "./todos/todo.service";

export interface ApplicationOverrides {
  readonly logger?: Logger;
  /** An already open database (tests share one); otherwise DATABASE_URL is opened and closed here. */
  readonly database?: Database;
  /** Relay tuning (tests shorten the backoff). */
  readonly relay?: Partial<
    Pick<OutboxRelayOptions, "pollIntervalMs" | "backoff" | "standbyIntervalMs" | "maxBulkEntries">
  >;
  /** Replaces the Dapr publisher (tests use an in-memory one). */
  readonly publisher?: EventPublisher;
  readonly probeSidecar?: () => Promise<SidecarStatus>;
  /** Interface to bind instead of HOST. Tests use 127.0.0.1. */
  readonly host?: string;
}

export interface RunningApplication {
  readonly url: string;
  readonly port: number;
  readonly httpServer: Server;
  readonly services: Services;
  readonly relay: OutboxRelay;
  readonly metrics: Metrics;
  /** Stops accepting, finishes in-flight requests, closes the publisher. */
  close(): Promise<void>;
}

export async function startApplication(
  config: Config,
  overrides: ApplicationOverrides = {},
): Promise<RunningApplication> {
  const logger = overrides.logger ?? createLogger(config);
  const publisher =
    overrides.publisher ??
    new CoalescingEventPublisher(
      new DaprEventPublisher({
        daprHost: config.dapr.host,
        daprHttpPort: config.dapr.httpPort,
        daprApiToken: config.dapr.apiToken,
        pubsubName: config.dapr.pubsubName,
        topic: config.dapr.todoEventsTopic,
        publishTimeoutMs: config.dapr.publishTimeoutMs,
        logger,
      }),
      config.dapr.publishBulkMaxEntries,
    );
  const database = overrides.database ?? (await openDatabase(config.databaseUrl));
  const metrics = createMetrics();
  const { services, relay } = createServices({
    database,
    publisher,
    logger,
    metrics,
    idempotency: config.idempotency,
    relay: overrides.relay ?? {
      pollIntervalMs: config.outbox.pollIntervalMs,
      backoff: { baseMs: config.outbox.retryBaseMs, maxMs: config.outbox.retryMaxMs },
      maxBulkEntries: config.dapr.publishBulkMaxEntries,
    },
  });

  const httpServer = createServer();
  const schema = await buildGraphQLSchema();
  const policy = createRequestPolicy({
    verifyAccessToken: createAccessTokenVerifier(config.jwt),
    documentLimits: config.documentLimits,
    introspection: config.graphql.introspection,
    rateLimiter:
      config.rateLimit.requestsPerMinute === 0
        ? undefined
        : new RateLimiter({ ...config.rateLimit, maxTrackedUsers: config.rateLimit.maxTrackedClients }),
  });
  const createContext = createContextFactory({ policy, services, logger });
  const webSocket = attachGraphQLWebSocket({
    httpServer,
    schema,
    policy,
    createContext,
    limits: config.webSocket,
    logger,
  });
  const apollo = createApolloServer({
    schema,
    policy,
    sandbox: config.graphql.sandbox,
    sandboxToken: config.jwt.usingDevelopmentSecret
      ? signDevelopmentToken(config.jwt, { subject: "dev-user", ttl: "24h" })
      : undefined,
    logger,
    metrics,
    extraPlugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      { serverWillStart: async () => ({ drainServer: () => webSocket.dispose() }) },
    ],
  });
  await apollo.start();

  let acceptingTraffic = true;
  const delivery = new TodoEventDelivery({
    feed: services.todoEventFeed,
    appApiToken: config.appApiToken,
    logger,
    onAnswer: (status) => metrics.eventsDelivered.inc({ status }),
  });
  metrics.onCollect(async () => {
    // Unknown, not zero, when the database cannot be read: an empty outbox would hide the outage.
    const backlog = await services.eventHistory.backlog().catch(() => undefined);
    metrics.outboxPending.set(backlog === undefined ? Number.NaN : backlog.pending);
    metrics.outboxOldestPendingSeconds.set(
      backlog === undefined ? Number.NaN : (backlog.oldestPendingAgeMs ?? 0) / 1000,
    );
    metrics.activeSubscriptions.set(services.todoEventFeed.activeSubscriptions);
  });
  const app = createExpressApp({
    apollo,
    createContext,
    delivery,
    health: {
      probeSidecar:
        overrides.probeSidecar ??
        createSidecarProbe({ daprHost: config.dapr.host, daprHttpPort: config.dapr.httpPort, timeoutMs: 1000 }),
      outboxBacklog: () => services.eventHistory.backlog(),
      isAcceptingTraffic: () => acceptingTraffic,
    },
    logger,
    metrics,
  });
  httpServer.on("request", app);

  const host = overrides.host ?? config.host;
  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(config.port, host, () => {
      httpServer.off("error", reject);
      resolve();
    });
  });
  const { port } = httpServer.address() as AddressInfo;
  const url = `http://${host === "0.0.0.0" || host === "::" ? "localhost" : host}:${port}/graphql`;
  relay.start();
  logger.info({ port, pubsub: publisher.destination, database: database.dialect }, "todo API listening");

  return {
    url,
    port,
    httpServer,
    services,
    relay,
    metrics,
    async close() {
      acceptingTraffic = false;
      delivery.stopAccepting();
      services.todoEventFeed.close();
      // Apollo's drain plugins close the listener and the sockets and wait for in-flight requests.
      await apollo.stop();
      await relay.stop();
      await publisher.close();
      if (overrides.database === undefined) await database.close();
    },
  };
}

export interface ServiceDependencies {
  readonly database: Database;
  readonly publisher: EventPublisher;
  readonly logger: Logger;
  /** When given, publishes are counted and timed per path (trigger, outbox). */
  readonly metrics?: Metrics;
  readonly relay?: ApplicationOverrides["relay"];
  readonly idempotency: Config["idempotency"];
}

/** Services and the outbox relay over one database; shared by the server and by tests. */
export function createServices(deps: ServiceDependencies): { services: Services; relay: OutboxRelay } {
  const { db, dialect, pool } = deps.database;
  const outbox = new OutboxRepository(dialect);
  const metered = (via: "trigger" | "outbox"): EventPublisher =>
    deps.metrics === undefined ? deps.publisher : new MeteredEventPublisher(deps.publisher, deps.metrics, via);
  const relay = new OutboxRelay({
    db,
    outbox,
    publisher: metered("outbox"),
    leadership: dialect === "postgres" && pool !== undefined ? new PostgresAdvisoryLeadership(pool) : soleRelay,
    logger: deps.logger,
    ...deps.relay,
  });
  const todos = new TodoService({ db, todos: new TodoRepository(), outbox, onEventsWritten: () => relay.notify() });
  const services: Services = {
    todos,
    todoEvents: new TodoEventService(
      metered("trigger"),
      new IdempotencyKeys({
        ttlMs: deps.idempotency.windowMs,
        maxEntries: deps.idempotency.maxKeys,
        maxBytes: deps.idempotency.maxBytes,
      }),
      (userId, taskId) => todos.isOwnedBy(userId, taskId),
    ),
    eventHistory: new EventHistoryService(db, outbox),
    todoEventFeed: new TodoEventFeed(),
  };
  return { services, relay };
}
