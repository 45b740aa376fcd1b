/** The one mapping from an event payload (and what the log knows of it) to the GraphQL TodoEvent. */
import type { SubscribedEvent } from "../../events/delivery/resumed-subscription";
import type { OutboxRecord } from "../../events/log/outbox.repository";
import type { TodoEventPayload } from "../../events/todo-event";
import { TodoEventStatus, type TodoEvent } from "./todo-event.type";

/** What the log records about an event beside its payload; a subscription knows only the status. */
interface EventState {
  readonly status: TodoEventStatus;
  readonly attempts: number | null;
  readonly lastError: string | null;
  readonly publishedAt: Date | null;
}

const STATUS: Record<OutboxRecord["status"], TodoEventStatus> = {
  PENDING: TodoEventStatus.PENDING,
  PUBLISHED: TodoEventStatus.PUBLISHED,
  FAILED: TodoEventStatus.FAILED,
};

export function todoEventOf(payload: TodoEventPayload, state: EventState): TodoEvent {
  return {
    eventId: payload.event_id,
    sequence: payload.sequence,
    action: payload.action,
    taskId: payload.task_id,
    details: payload.details,
    occurredAt: new Date(payload.occurred_at),
    ...state,
  };
}

export function todoEventOfRecord(record: OutboxRecord): TodoEvent {
  return todoEventOf(record.event, {
    status: STATUS[record.status],
    attempts: record.attempts,
    lastError: record.lastError,
    publishedAt: record.publishedAt,
  });
}

/** A subscription's event: live ones came back from the broker; attempts are the log's business. */
export function todoEventOfSubscription(event: SubscribedEvent): TodoEvent {
  return todoEventOf(event.payload, {
    status: STATUS[event.status],
    attempts: null,
    lastError: null,
    publishedAt: null,
  });
}
