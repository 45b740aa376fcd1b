/**
 * The application's Prometheus metrics (prom-client), one registry per
 * application instance so tests can run several side by side. Labels are
 * low-cardinality on purpose: no user ids, no free-form values.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface Metrics {
  readonly registry: Registry;
  readonly httpRequestDuration: Histogram<"method" | "route" | "status">;
  readonly graphqlOperations: Counter<"operation" | "type" | "outcome">;
  readonly eventsPublished: Counter<"action" | "via">;
  readonly eventsFailed: Counter<"action" | "reason">;
  readonly publishDuration: Histogram<"outcome">;
  /** Set by collectors registered with `onCollect`. */
  readonly outboxPending: Gauge;
  readonly outboxOldestPendingSeconds: Gauge;
  readonly activeSubscriptions: Gauge;
  readonly eventsDelivered: Counter<"status">;
  /** Fetches of the identity provider's keys (JWKS), by what caused them and how they ended. */
  readonly jwksFetches: Counter<"trigger" | "outcome">;
  /** Log lines never written (reader gone, write error, buffer full); brought up to date on scrape. */
  readonly logLinesDropped: Counter<"reason">;
  /** Runs before each scrape, to refresh gauges that are read rather than counted. */
  onCollect(collect: () => Promise<void> | void): void;
  /** Refreshes the read-on-scrape gauges, then renders every metric in the Prometheus text format. */
  scrape(): Promise<string>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  // Process metrics (CPU, RSS, heap, event-loop lag, handles) for the soak and capacity questions.
  collectDefaultMetrics({ register: registry });
  const collectors: (() => Promise<void> | void)[] = [];
  const outboxPending = new Gauge({
    name: "todo_outbox_pending_events",
    help: "Outbox rows not yet published (NaN when the database could not be read)",
    registers: [registry],
  });

  return {
    registry,
    httpRequestDuration: new Histogram({
      name: "todo_http_request_duration_seconds",
      help: "HTTP request duration by method, route and status",
      labelNames: ["method", "route", "status"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    graphqlOperations: new Counter({
      name: "todo_graphql_operations_total",
      help: "GraphQL operations by operation name, type and outcome (ok or the first error code)",
      labelNames: ["operation", "type", "outcome"],
      registers: [registry],
    }),
    eventsPublished: new Counter({
      name: "todo_events_published_total",
      help: "Events the sidecar accepted, by action and path (trigger or outbox)",
      labelNames: ["action", "via"],
      registers: [registry],
    }),
    eventsFailed: new Counter({
      name: "todo_events_publish_failed_total",
      help: "Publish attempts that failed, by action and reason",
      labelNames: ["action", "reason"],
      registers: [registry],
    }),
    publishDuration: new Histogram({
      name: "todo_event_publish_duration_seconds",
      help: "Time from handing an event to the Dapr sidecar until its answer (each event of a bulk publish counts once)",
      labelNames: ["outcome"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    outboxPending,
    outboxOldestPendingSeconds: new Gauge({
      name: "todo_outbox_oldest_pending_age_seconds",
      help: "Age of the oldest unpublished outbox row (0 when none, NaN when the database could not be read)",
      registers: [registry],
    }),
    activeSubscriptions: new Gauge({
      name: "todo_active_subscriptions",
      help: "Live GraphQL subscriptions on this instance",
      registers: [registry],
    }),
    eventsDelivered: new Counter({
      name: "todo_events_delivered_total",
      help: "Events Dapr delivered to this instance, by the answer given (SUCCESS, RETRY, DROP)",
      labelNames: ["status"],
      registers: [registry],
    }),
    jwksFetches: new Counter({
      name: "todo_jwks_fetches_total",
      help: "Fetches of the identity provider's signing keys, by trigger (startup, expired, unknown_kid) and outcome (ok, error)",
      labelNames: ["trigger", "outcome"],
      registers: [registry],
    }),
    logLinesDropped: new Counter({
      name: "todo_log_lines_dropped_total",
      help: "Log lines dropped instead of written, by reason (broken_pipe, write_error, buffer_full)",
      labelNames: ["reason"],
      registers: [registry],
    }),
    onCollect(collect) {
      collectors.push(collect);
    },
    // The refresh runs to completion before rendering: prom-client reads all metrics at once,
    // so a gauge's own collect hook setting other gauges would show them one scrape late.
    async scrape() {
      await Promise.all(collectors.map(async (collect) => collect()));
      return registry.metrics();
    },
  };
}

/** Operation names come from clients: keep the label set bounded. */
export class BoundedLabel {
  private readonly seen = new Set<string>();
  constructor(private readonly max: number) {}

  of(value: string | null | undefined): string {
    if (value === null || value === undefined || value === "") return "anonymous";
    const clean = value.slice(0, 64);
    if (this.seen.has(clean)) return clean;
    if (this.seen.size >= this.max) return "other";
    this.seen.add(clean);
    return clean;
  }
}
