/**
 * The port between the services and the message bus. Implementations never
 * throw for a failed publish: they report a typed outcome, so callers decide
 * (the trigger mutation reports EVENT_PUBLISH_FAILED, the outbox relay retries).
 */
import type { TodoEventPayload } from "./todo-event";

export type PublishFailureReason =
  /** The sidecar did not answer within the configured timeout. */
  | "timeout"
  /** The sidecar could not be reached at all (not running, refused). */
  | "unavailable"
  /** The sidecar answered with an error (component down, broker refused, bad request). */
  | "rejected";

export type PublishOutcome =
  { readonly ok: true } | { readonly ok: false; readonly reason: PublishFailureReason; readonly detail: string };

/** What readiness reports about the message bus's local end (the sidecar); never a reason to refuse work. */
export type SidecarStatus = "reachable" | "unreachable";

export interface PublishOptions {
  /** W3C trace context of the request that caused the event, when known. */
  readonly traceparent?: string;
}

export interface PublishItem {
  readonly event: TodoEventPayload;
  readonly options?: PublishOptions;
}

export interface EventPublisher {
  /** Where events go; reported in logs. */
  readonly destination: { readonly pubsubName: string; readonly topic: string };
  publish(event: TodoEventPayload, options?: PublishOptions): Promise<PublishOutcome>;
  /**
   * Publishes several events in one round trip where the transport allows it. The
   * outcomes line up with `items`; each item succeeds or fails on its own, and no order
   * among the items is promised, so a caller that needs order (the outbox relay) never
   * puts two events of one user in the same batch.
   */
  publishBatch(items: readonly PublishItem[]): Promise<PublishOutcome[]>;
  close(): Promise<void>;
}
