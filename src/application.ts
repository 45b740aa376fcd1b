/**
 * Composition root: wires configuration into adapters, services, GraphQL and
 * HTTP, and nothing else. The only module that knows Dapr's adapters (besides
 * main.ts, which adds process concerns: signals, exit codes). Tests call
 * `startApplication` with an in-memory publisher.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { signDevelopmentToken } from "./auth/development-token";
import { createTokenVerifier } from "./auth/token-verifier";
import type { Config } from "./config/config";
import { DaprEventPublisher } from "./events/dapr/dapr-event-publisher";
import { createSidecarProbe } from "./events/dapr/dapr-sidecar-probe";
import { openDatabase, type Database } from "./db/database";
import type { EventPublisher, SidecarStatus } from "./events/event-publisher";
import type { OutboxRelay, OutboxRelayTuning } from "./events/log/outbox-relay";
import { TodoEventDelivery } from "./events/delivery/todo-event-delivery";
import { createApolloServer } from "./graphql/apollo-server";
import type { Services } from "./graphql/context";
import { createContextFactory } from "./graphql/context-factory";
import { RateLimiter } from "./graphql/limits/rate-limiter";
import { createRequestPolicy } from "./graphql/request-policy";
import { buildGraphQLSchema } from "./graphql/schema";
import { createHttpApp } from "./http/app";
import { attachGraphQLWebSocket } from "./http/graphql-websocket";
import type { LogDestination } from "./logging/log-destination";
import { createLogger, createStdoutLogDestination, type Logger } from "./logging/logger";
import { createMetrics, type Metrics } from "./metrics/metrics";
import { registerReadOnScrapeGauges } from "./metrics/read-on-scrape-gauges";
import { createServices } from "./services";

export interface ApplicationOverrides {
  readonly logger?: Logger;
  /** Where `logger` writes, so its dropped lines are counted in the metrics. */
  readonly logDestination?: LogDestination;
  /** An already open database (tests share one); otherwise DATABASE_URL is opened and closed here. */
  readonly database?: Database;
  /** Relay timings instead of the configured ones (tests shorten the backoff). */
  readonly relayTuning?: Partial<OutboxRelayTuning>;
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
  const logDestination = overrides.logger === undefined ? createStdoutLogDestination() : overrides.logDestination;
  const logger = overrides.logger ?? createLogger(config, logDestination);
  const metrics = createMetrics();
  // First: discovery may refuse the configuration, and nothing is open yet to close.
  const tokens = await createTokenVerifier(config.jwt, {
    logger,
    onKeyFetch: ({ trigger, outcome }) => metrics.jwksFetches.inc({ trigger, outcome }),
  });
  const database = overrides.database ?? (await openDatabase(config.databaseUrl));
  const { services, relay, backlog, publisher } = createServices({
    config,
    database,
    publisher:
      overrides.publisher ??
      new DaprEventPublisher({
        daprHost: config.dapr.host,
        daprHttpPort: config.dapr.httpPort,
        daprApiToken: config.dapr.apiToken,
        pubsubName: config.dapr.pubsubName,
        topic: config.dapr.todoEventsTopic,
        publishTimeoutMs: config.dapr.publishTimeoutMs,
        logger,
      }),
    logger,
    metrics,
    relayTuning: overrides.relayTuning,
  });

  const httpServer = createServer();
  const schema = await buildGraphQLSchema();
  const policy = createRequestPolicy({
    verifyAccessToken: tokens.verify,
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
  registerReadOnScrapeGauges(metrics, {
    outboxBacklog: () => backlog.read(),
    activeSubscriptions: () => services.todoEventFeed.activeSubscriptions,
    logLinesDropped: logDestination === undefined ? undefined : () => logDestination.droppedLines(),
  });
  await createHttpApp({
    httpServer,
    apollo,
    createContext,
    delivery,
    health: {
      probeSidecar:
        overrides.probeSidecar ??
        createSidecarProbe({ daprHost: config.dapr.host, daprHttpPort: config.dapr.httpPort, timeoutMs: 1000 }),
      outboxBacklog: () => backlog.read(),
      isAcceptingTraffic: () => acceptingTraffic,
      signingKeys: tokens.signingKeys,
      storage: () => database.storage.read(),
    },
    logger,
    metrics,
  });

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
