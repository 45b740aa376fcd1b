/**
 * The transactional outbox: events written in the same transaction as the
 * change that caused them, published later by the relay. It doubles as each
 * user's event history.
 */
import { sql, type Kysely, type Selectable } from "kysely";
import type { DatabaseDialect } from "../../db/database";
import type { DatabaseSchema, OutboxTable } from "../../db/schema";
import type { TodoEventPayload } from "../todo-event";
import type { EventLog } from "./event-log";

type Executor = Kysely<DatabaseSchema>;

export type OutboxStatus = "PENDING" | "PUBLISHED";

export interface OutboxRecord {
  readonly id: number;
  readonly event: TodoEventPayload;
  readonly status: OutboxStatus;
  readonly attempts: number;
  readonly lastError: string | null;
  readonly createdAt: Date;
  readonly nextAttemptAt: Date;
  readonly publishedAt: Date | null;
  readonly traceparent: string | null;
}

export interface OutboxBacklog {
  readonly pending: number;
  /** Age of the oldest pending row in ms, or null when there is none. */
  readonly oldestPendingAgeMs: number | null;
}

const MAX_ERROR_LENGTH = 500;
/** Namespace of the per-user transaction locks (two-int advisory keys never collide with one-bigint keys). */
const USER_LOCK_NAMESPACE = 4_601;

export class OutboxRepository implements EventLog {
  constructor(private readonly dialect: DatabaseDialect) {}

  /**
   * Outbox ids are handed out at insert time, so without this lock two
   * concurrent transactions of one user could commit in the opposite order of
   * their ids, and the relay would publish that user's events out of order.
   * SQLite writes are already serial.
   */
  async serialiseUserWrites(trx: Executor, userId: string): Promise<void> {
    if (this.dialect !== "postgres") return;
    await sql`select pg_advisory_xact_lock(${USER_LOCK_NAMESPACE}, hashtext(${userId}))`.execute(trx);
  }

  async append(db: Executor, event: TodoEventPayload, traceparent?: string): Promise<void> {
    await db
      .insertInto("outbox")
      .values({
        event_id: event.event_id,
        user_id: event.user_id,
        action: event.action,
        task_id: event.task_id,
        payload: JSON.stringify(event),
        status: "PENDING",
        attempts: 0,
        last_error: null,
        created_at: event.occurred_at,
        next_attempt_at: event.occurred_at,
        published_at: null,
        traceparent: traceparent ?? null,
      })
      .execute();
  }

  /**
   * The oldest pending rows in publish order, leaving out every row of a user
   * whose first pending row is waiting for its retry time (only a user's first
   * row can fail, because the relay stops at a user's first failure).
   */
  async due(db: Executor, limit: number, now: Date): Promise<OutboxRecord[]> {
    const rows = await db
      .selectFrom("outbox")
      .selectAll()
      .where("status", "=", "PENDING")
      .where("user_id", "not in", (eb) =>
        eb
          .selectFrom("outbox")
          .select("user_id")
          .where("status", "=", "PENDING")
          .where("next_attempt_at", ">", now.toISOString()),
      )
      .orderBy("id")
      .limit(limit)
      .execute();
    return rows.map(toRecord);
  }

  async markPublished(db: Executor, ids: readonly number[], at: Date): Promise<void> {
    if (ids.length === 0) return;
    await db
      .updateTable("outbox")
      .set((eb) => ({
        status: "PUBLISHED",
        published_at: at.toISOString(),
        attempts: eb("attempts", "+", 1),
        last_error: null,
      }))
      .where("id", "in", ids)
      .where("status", "=", "PENDING")
      .execute();
  }

  async markFailed(db: Executor, id: number, error: string, nextAttemptAt: Date): Promise<void> {
    await db
      .updateTable("outbox")
      .set((eb) => ({
        attempts: eb("attempts", "+", 1),
        last_error: error.slice(0, MAX_ERROR_LENGTH),
        next_attempt_at: nextAttemptAt.toISOString(),
      }))
      .where("id", "=", id)
      .execute();
  }

  /** A user's events, newest first; `afterId` (the cursor) keeps those after it in that order, with smaller ids. */
  async history(db: Executor, userId: string, limit: number, afterId?: number): Promise<OutboxRecord[]> {
    let select = db.selectFrom("outbox").selectAll().where("user_id", "=", userId);
    if (afterId !== undefined) select = select.where("id", "<", afterId);
    const rows = await select.orderBy("id", "desc").limit(limit).execute();
    return rows.map(toRecord);
  }

  async backlog(db: Executor, now: Date): Promise<OutboxBacklog> {
    const row = await db
      .selectFrom("outbox")
      .select((eb) => [eb.fn.countAll<number>().as("pending"), eb.fn.min("created_at").as("oldest")])
      .where("status", "=", "PENDING")
      .executeTakeFirstOrThrow();
    const oldest = row.oldest as string | null;
    return {
      pending: Number(row.pending),
      oldestPendingAgeMs: oldest === null ? null : Math.max(0, now.getTime() - new Date(oldest).getTime()),
    };
  }
}

function toRecord(row: Selectable<OutboxTable>): OutboxRecord {
  return {
    id: Number(row.id),
    event: JSON.parse(row.payload) as TodoEventPayload,
    status: row.status as OutboxStatus,
    attempts: row.attempts,
    lastError: row.last_error,
    createdAt: new Date(row.created_at),
    nextAttemptAt: new Date(row.next_attempt_at),
    publishedAt: row.published_at === null ? null : new Date(row.published_at),
    traceparent: row.traceparent,
  };
}
