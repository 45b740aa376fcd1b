/**
 * The services and the outbox relay over one database: the object graph that
 * production and the tests share. The caller hands in the publisher (Dapr in
 * production, in-memory in tests); everything on top of it is built here the
 * same way for both, the coalescing of trigger publishes included.
 */
import type { Config } from "./config/config";
import type { Database } from "./db/database";
import { GroupCommit } from "./db/group-commit";
import { TodoEventSubscriptions } from "./events/delivery/resumed-subscription";
import { TodoEventFeed } from "./events/delivery/todo-event-feed";
import { CoalescingEventPublisher } from "./events/coalescing-event-publisher";
import type { EventPublisher } from "./events/event-publisher";
import { EventHistoryService } from "./events/log/event-history.service";
import { OutboxBacklogReader } from "./events/log/outbox-backlog";
import { OutboxRelay, type OutboxRelayTuning } from "./events/log/outbox-relay";
import { OutboxRepository } from "./events/log/outbox.repository";
import { PostgresAdvisoryLeadership, soleRelay } from "./events/log/relay-leadership";
import { EventRetention, retentionIntervalMs } from "./events/log/retention";
import { MeteredEventPublisher } from "./events/metered-event-publisher";
import { IdempotencyKeyRepository } from "./events/trigger/idempotency-key.repository";
import { TriggerService } from "./events/trigger/trigger.service";
import type { Services } from "./graphql/context";
import type { Logger } from "./logging/logger";
import type { Metrics } from "./metrics/metrics";
import { TodoRepository } from "./todos/todo.repository";
import { TodoService } from "./todos/todo.service";

export interface ServiceDependencies {
  readonly config: Pick<Config, "events" | "outbox" | "dapr" | "writeBatchMax">;
  readonly database: Database;
  /** The message bus, as it is: Dapr in production, in-memory in tests. */
  readonly publisher: EventPublisher;
  readonly logger: Logger;
  /** When given, publishes are counted and timed per path (trigger, outbox). */
  readonly metrics?: Metrics;
  /** Relay timings instead of the configured ones (tests shorten them). */
  readonly relayTuning?: Partial<OutboxRelayTuning>;
}

export interface ServiceGraph {
  readonly services: Services;
  readonly relay: OutboxRelay;
  /** What the outbox still has to publish; read by /readyz and the metrics. */
  readonly backlog: OutboxBacklogReader;
  /** The publisher every path uses; closing it flushes what it holds. */
  readonly publisher: EventPublisher;
}

export function createServices(deps: ServiceDependencies): ServiceGraph {
  const { config } = deps;
  const { db, dialect, pool } = deps.database;
  const outbox = new OutboxRepository(dialect);
  const keys = new IdempotencyKeyRepository();
  const publisher = new CoalescingEventPublisher(deps.publisher, config.dapr.publishBulkMaxEntries);
  const metered = (via: "trigger" | "outbox"): EventPublisher =>
    deps.metrics === undefined ? publisher : new MeteredEventPublisher(publisher, deps.metrics, via);
  const relay = new OutboxRelay({
    db,
    outbox,
    publisher: metered("outbox"),
    leadership: dialect === "postgres" && pool !== undefined ? new PostgresAdvisoryLeadership(pool) : soleRelay,
    logger: deps.logger,
    pollIntervalMs: config.outbox.pollIntervalMs,
    backoff: { baseMs: config.outbox.retryBaseMs, maxMs: config.outbox.retryMaxMs },
    maxBulkEntries: config.dapr.publishBulkMaxEntries,
    retention: new EventRetention({
      steps: [
        (now, limit) => outbox.prune(db, new Date(now.getTime() - config.events.retentionMs), limit),
        (now, limit) => keys.pruneExpired(db, now, limit),
      ],
      intervalMs: retentionIntervalMs(config.events.retentionMs),
      logger: deps.logger,
    }),
    ...deps.relayTuning,
  });
  // A batch runs its statements in turn on one connection: PostgreSQL's pool runs them in parallel.
  const writes = new GroupCommit(db, dialect === "sqlite" ? config.writeBatchMax : 1);
  const todos = new TodoService({
    db,
    writes,
    todos: new TodoRepository(),
    events: outbox,
    onEventsWritten: () => relay.notify(),
  });
  const todoEventFeed = new TodoEventFeed();
  const services: Services = {
    todos,
    triggers: new TriggerService({
      db,
      log: outbox,
      keys,
      publisher: metered("trigger"),
      tasks: todos,
      publishTimeoutMs: config.dapr.publishTimeoutMs,
      idempotencyWindowMs: config.events.idempotencyWindowMs,
      writes,
      onEventQueued: () => relay.notify(),
    }),
    eventHistory: new EventHistoryService(db, outbox),
    todoEventFeed,
    subscriptions: new TodoEventSubscriptions(db, outbox, todoEventFeed),
  };
  return { services, relay, backlog: new OutboxBacklogReader(db, outbox), publisher };
}
