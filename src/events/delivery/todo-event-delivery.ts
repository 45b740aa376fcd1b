/**
 * What the Dapr delivery route does with an event, independent of HTTP:
 * check the sidecar's app token, validate, drop duplicates, fan out to this
 * instance's subscribers, and answer Dapr's SUCCESS / RETRY / DROP.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { Logger } from "../../logging/logger";
import type { TodoEventPayload } from "../todo-event";
import { parseDeliveredEvent } from "./incoming-event";
import type { TodoEventFeed } from "./todo-event-feed";

/** Dapr's pub/sub response statuses: SUCCESS acknowledges, RETRY redelivers, DROP dead-letters. */
export type DeliveryStatus = "SUCCESS" | "RETRY" | "DROP";

export interface TodoEventDeliveryOptions {
  readonly feed: TodoEventFeed;
  /** When set, every delivery must carry it as `dapr-api-token`. */
  readonly appApiToken?: string;
  readonly logger: Logger;
  /** How many recent event ids to remember for dropping redeliveries. */
  readonly recentCapacity?: number;
  /** Told every answer given to Dapr (metrics). */
  readonly onAnswer?: (status: DeliveryStatus) => void;
}

export class TodoEventDelivery {
  private readonly expectedTokenDigest: Buffer | undefined;
  private readonly recent = new Set<string>();
  private readonly recentCapacity: number;
  private accepting = true;

  constructor(private readonly options: TodoEventDeliveryOptions) {
    this.expectedTokenDigest = options.appApiToken === undefined ? undefined : digest(options.appApiToken);
    this.recentCapacity = options.recentCapacity ?? 10_000;
  }

  /** Checked before the body is even parsed: an unauthenticated caller learns nothing. */
  isAuthorised(apiToken: string | undefined): boolean {
    if (this.expectedTokenDigest === undefined) return true;
    const authorised = apiToken !== undefined && timingSafeEqual(digest(apiToken), this.expectedTokenDigest);
    if (!authorised) this.options.logger.warn("delivery refused: missing or wrong dapr-api-token");
    return authorised;
  }

  /** `body` is the parsed request body, or undefined when it was not JSON. */
  receive(body: unknown): DeliveryStatus {
    const status = this.decide(body);
    this.options.onAnswer?.(status);
    return status;
  }

  private decide(body: unknown): DeliveryStatus {
    // While shutting down, let Dapr redeliver rather than acknowledge an event no one will see.
    if (!this.accepting) return "RETRY";
    const parsed = parseDeliveredEvent(body);
    if (!parsed.ok) {
      this.options.logger.warn({ reason: parsed.reason }, "delivery dropped: malformed event");
      return "DROP";
    }
    const { event } = parsed;
    // At-least-once delivery repeats events; subscribers should see each once.
    if (this.recent.has(event.event_id)) {
      this.debug(body, event, {}, "duplicate delivery acknowledged");
      return "SUCCESS";
    }
    this.remember(event.event_id);
    const subscribers = this.options.feed.deliver(event);
    this.debug(body, event, { subscribers }, "event delivered");
    return "SUCCESS";
  }

  /** Only built when debug is on: a child logger per event would cost more than the delivery. */
  private debug(body: unknown, event: TodoEventPayload, fields: object, message: string): void {
    const logger = this.options.logger;
    if (!logger.isLevelEnabled("debug")) return;
    // The CloudEvent carries the trace of the request that caused the event: continue it in the log.
    const traceId = traceIdOf(body);
    logger.debug(
      { ...fields, eventId: event.event_id, userId: event.user_id, ...(traceId === undefined ? {} : { traceId }) },
      message,
    );
  }

  /** Called at shutdown. */
  stopAccepting(): void {
    this.accepting = false;
  }

  private remember(eventId: string): void {
    this.recent.add(eventId);
    if (this.recent.size > this.recentCapacity) {
      const oldest = this.recent.values().next().value;
      if (oldest !== undefined) this.recent.delete(oldest);
    }
  }
}

/** Comparing fixed-length digests keeps the comparison constant-time whatever the token length. */
function digest(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest();
}

function traceIdOf(body: unknown): string | undefined {
  const traceparent = (body as { traceparent?: unknown } | null)?.traceparent;
  if (typeof traceparent !== "string") return undefined;
  return /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/.exec(traceparent)?.[1];
}
