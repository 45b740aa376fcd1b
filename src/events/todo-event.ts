/**
 * The event contract shared with the seed's Python consumers (fields are only ever added):
 * snake_case payload, user id in payload and publish metadata, per-user
 * partition key and a CloudEvent id consumers use to drop duplicates.
 */
import { randomUUID } from "node:crypto";

export const EVENT_SCHEMA_VERSION = 1;

export type JsonObject = { [key: string]: unknown };

export interface TodoEventPayload {
  readonly event_id: string;
  readonly action: string;
  readonly task_id: number;
  /** Always the verified subject of the JWT, never a client-supplied value. */
  readonly user_id: string;
  readonly details: JsonObject;
  readonly occurred_at: string;
  readonly schema_version: typeof EVENT_SCHEMA_VERSION;
}

export interface NewTodoEvent {
  readonly action: string;
  readonly taskId: number;
  readonly userId: string;
  readonly details: JsonObject;
  /** Reused on retries so consumers can drop the duplicate. */
  readonly eventId?: string;
  readonly occurredAt?: Date;
}

export function createTodoEvent(input: NewTodoEvent): TodoEventPayload {
  return {
    event_id: input.eventId ?? randomUUID(),
    action: input.action,
    task_id: input.taskId,
    user_id: input.userId,
    details: input.details,
    occurred_at: (input.occurredAt ?? new Date()).toISOString(),
    schema_version: EVENT_SCHEMA_VERSION,
  };
}

/**
 * Dapr publish metadata: `user_id` becomes a Kafka record header,
 * `partitionKey` the record key (per-user order), `cloudevent.*` override the
 * envelope Dapr wraps around the payload.
 */
export function publishMetadataFor(event: TodoEventPayload, traceparent?: string): Record<string, string> {
  return {
    user_id: event.user_id,
    partitionKey: event.user_id,
    "cloudevent.id": event.event_id,
    "cloudevent.type": `todo.${event.action}`,
    ...(traceparent === undefined ? {} : { "cloudevent.traceparent": traceparent }),
  };
}
