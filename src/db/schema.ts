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

export interface OutboxTable {
  /** Global publish order; a user's events are published in this order. */
  id: Generated<number>;
  event_id: string;
  user_id: string;
  action: string;
  task_id: number;
  /** The full event payload as JSON text, exactly as it will be published. */
  payload: string;
  status: string;
  attempts: number;
  last_error: string | null;
  created_at: string;
  next_attempt_at: string;
  published_at: string | null;
  traceparent: string | null;
}

export interface DatabaseSchema {
  todos: TodosTable;
  outbox: OutboxTable;
}
