/**
 * Table shapes as the database returns them. Timestamps are ISO-8601 UTC
 * text and booleans 0/1 integers in both dialects, so one set of queries and
 * row mappers serves SQLite and PostgreSQL alike.
 */
import type { Generated } from "kysely";

export interface TodosTable {
  id: Generated<number>;
  user_id: string;
  title: string;
  description: string | null;
  completed: number;
  priority: string;
  due_at: string | null;
  created_at: string;
  updated_at: string;
  /** A client's createTodo retry key; unique per user. */
  idempotency_key: string | null;
}

/**
 * The event log: every event, triggered or caused by a mutation, appended in the transaction of
 * its cause. It is the outbox (PENDING rows wait for the relay), the history and the replay source.
 */
export interface OutboxTable {
  /** Global append order; a user's events are published in this order. */
  id: Generated<number>;
  /** The user's event number (unique per user; see user_sequences). */
  sequence: number;
  event_id: string;
  user_id: string;
  action: string;
  task_id: number;
  /** The event payload as JSON text, as it will be published but for `sequence`, which is the column. */
  payload: string;
  /** PENDING (the relay or a trigger will publish it), PUBLISHED, or FAILED (a trigger's failed publish; never relayed). */
  status: string;
  attempts: number;
  last_error: string | null;
  created_at: string;
  next_attempt_at: string;
  published_at: string | null;
  traceparent: string | null;
}

/** Each user's last sequence; kept when old log rows are pruned, so numbering never restarts. */
export interface UserSequencesTable {
  user_id: string;
  last_sequence: number;
  /** The highest sequence retention has pruned: a resume from before it is CURSOR_EXPIRED. */
  pruned_through: number;
}

/** triggerTodoEvent's idempotency keys: a retry on any instance finds the event it first made. */
export interface IdempotencyKeysTable {
  user_id: string;
  idempotency_key: string;
  /** A digest of what the first request asked for; a different request under the key is refused. */
  fingerprint: string;
  event_id: string;
  expires_at: string;
}

export interface DatabaseSchema {
  todos: TodosTable;
  outbox: OutboxTable;
  user_sequences: UserSequencesTable;
  idempotency_keys: IdempotencyKeysTable;
}
