/** The one mapping from an event payload (and what the log knows of it) to the GraphQL TodoEvent. */
import type { OutboxRecord } from "../../events/log/outbox.repository";
import type { TodoEventPayload } from "../../events/todo-event";
import { TodoEventStatus, type TodoEvent } from "./todo-event.type";

/** What the log records about an event beside its payload; a live delivery knows none of it. */
interface EventState {
  readonly status: TodoEventStatus;
  readonly attempts: number | null;
  readonly lastError: string | null;
  readonly publishedAt: Date | null;
}

export function todoEventOf(payload: TodoEventPayload, state: EventState): TodoEvent {
  return {
    eventId: payload.event_id,
    action: payload.action,
    taskId: payload.task_id,
    details: payload.details,
    occurredAt: new Date(payload.occurred_at),
    ...state,
  };
}

export function todoEventOfRecord(record: OutboxRecord): TodoEvent {
  return todoEventOf(record.event, {
    status: record.status === "PUBLISHED" ? TodoEventStatus.PUBLISHED : TodoEventStatus.PENDING,
    attempts: record.attempts,
    lastError: record.lastError,
    publishedAt: record.publishedAt,
  });
}

/** It came back from the broker, so it was published; attempts are the log's business. */
export function todoEventOfDelivery(payload: TodoEventPayload): TodoEvent {
  return todoEventOf(payload, {
    status: TodoEventStatus.PUBLISHED,
    attempts: null,
    lastError: null,
    publishedAt: null,
  });
}
