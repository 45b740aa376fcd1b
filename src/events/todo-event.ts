/**
 * The event contract shared with the seed's Python consumers (fields are only ever added):
 * snake_case payload, user id in payload and publish metadata, per-user
 * partition key and a CloudEvent id consumers use to drop duplicates.
 */
import { v7 as timeOrderedUuid } from "uuid";

export const EVENT_SCHEMA_VERSION = 1;

export type JsonObject = { [key: string]: unknown };

/** The actions todo mutations emit; triggerTodoEvent carries the client's own. */
export const TODO_MUTATION_ACTIONS = ["task_created", "task_updated", "task_completed", "task_deleted"] as const;

export interface TodoEventPayload {
  readonly event_id: string;
  /**
   * The user's event number: 1, 2, 3, … in the order their events were appended to the log, and
   * so in Kafka for that user. A gap is an event whose publish failed (a FAILED trigger).
   */
  readonly sequence: number;
  readonly action: string;
  readonly task_id: number;
  /** Always the verified subject of the JWT, never a client-supplied value. */
  readonly user_id: string;
  readonly details: JsonObject;
  readonly occurred_at: string;
  readonly schema_version: typeof EVENT_SCHEMA_VERSION;
}

/**
 * The payload's fields in the order the contract documents them: the JSON Schema requires them,
 * and `details` may not repeat them (a consumer that reads `details.user_id`, or merges details
 * into the event, would otherwise see what the client chose).
 */
export const TODO_EVENT_FIELDS = [
  "event_id",
  "sequence",
  "action",
  "task_id",
  "user_id",
  "details",
  "occurred_at",
  "schema_version",
] as const satisfies readonly (keyof TodoEventPayload)[];

/** Compiles only while TODO_EVENT_FIELDS names every field of TodoEventPayload. */
type EveryFieldListed<Missing extends never> = Missing;
export type TodoEventFieldsAreComplete = EveryFieldListed<
  Exclude<keyof TodoEventPayload, (typeof TODO_EVENT_FIELDS)[number]>
>;

/** An event before the log gives it its sequence. */
export type TodoEventDraft = Omit<TodoEventPayload, "sequence">;

export interface NewTodoEvent {
  readonly action: string;
  readonly taskId: number;
  readonly userId: string;
  readonly details: JsonObject;
  /** Reused on retries so consumers can drop the duplicate. */
  readonly eventId?: string;
  readonly occurredAt?: Date;
}

/**
 * A new event's id: a version 7 UUID, whose leading bits are the time it was made. The log's unique
 * index on event_id then grows at its end, where its pages are already in SQLite's cache; random
 * (version 4) ids put each append's index entry on an arbitrary page of a large index, read and
 * written back by every commit.
 */
export function newEventId(): string {
  return timeOrderedUuid();
}

export function draftTodoEvent(input: NewTodoEvent): TodoEventDraft {
  return {
    event_id: input.eventId ?? newEventId(),
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
