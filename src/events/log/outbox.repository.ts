/**
 * The event log: every event appended in the same transaction as its cause,
 * with the user's next sequence. It is the transactional outbox (the relay
 * publishes PENDING rows), each user's history, and the source a resumed
 * subscription replays from.
 */
import { sql, type Insertable, type Kysely, type Selectable } from "kysely";
import type { DatabaseDialect } from "../../db/database";
import { PreparedQuery } from "../../db/prepared-query";
import type { DatabaseSchema, OutboxTable } from "../../db/schema";
import type { TodoEventDraft, TodoEventPayload } from "../todo-event";
import type { AppendOptions, AppendedEvent, EventLog } from "./event-log";

type Executor = Kysely<DatabaseSchema>;

export type OutboxStatus = "PENDING" | "PUBLISHED" | "FAILED";

export interface OutboxRecord {
  readonly id: number;
  readonly sequence: number;
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
  /**
   * The log's size, what retention keeps bounded: the ids from its oldest row to its newest. Read
   * from the primary key's ends, so a probe never counts a large table; rows that retention took
   * out of order (none in normal operation: it prunes oldest first) would still be counted.
   */
  readonly span: number;
}

const MAX_ERROR_LENGTH = 500;
/**
 * Written into the SQL rather than bound: the indexes of pending rows are partial ("where status
 * = 'PENDING'"), and SQLite uses a partial index only for a query whose condition names the
 * same literal.
 */
const PENDING_STATUS = sql.lit<OutboxStatus>("PENDING");
/** Namespace of the per-user transaction locks (two-int advisory keys never collide with one-bigint keys). */
const USER_LOCK_NAMESPACE = 4_601;

// The statements every trigger and every todo change runs, built and compiled once (see PreparedQuery).
const insertRow = new PreparedQuery((db: Executor, row: Insertable<OutboxTable>) =>
  db
    .insertInto("outbox")
    .values({
      event_id: row.event_id,
      sequence: row.sequence,
      user_id: row.user_id,
      action: row.action,
      task_id: row.task_id,
      payload: row.payload,
      status: row.status,
      attempts: row.attempts,
      last_error: row.last_error,
      created_at: row.created_at,
      next_attempt_at: row.next_attempt_at,
      published_at: row.published_at,
      traceparent: row.traceparent,
    })
    .returning("id"),
);
const takeNextSequence = new PreparedQuery((db: Executor, key: { userId: string }) =>
  db
    .insertInto("user_sequences")
    .values({ user_id: key.userId, last_sequence: 1, pruned_through: 0 })
    .onConflict((conflict) =>
      conflict.column("user_id").doUpdateSet({ last_sequence: sql<number>`user_sequences.last_sequence + 1` }),
    )
    .returning("last_sequence"),
);
const userHasPending = new PreparedQuery((db: Executor, key: { userId: string }) =>
  db.selectFrom("outbox").select("id").where("user_id", "=", key.userId).where("status", "=", PENDING_STATUS).limit(1),
);

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

  async append(trx: Executor, draft: TodoEventDraft, options: AppendOptions = {}): Promise<AppendedEvent> {
    const row = {
      event_id: draft.event_id,
      user_id: draft.user_id,
      action: draft.action,
      task_id: draft.task_id,
      // The sequence is the row's column; toRecord puts it into the payload.
      payload: JSON.stringify(draft),
      status: "PENDING",
      attempts: 0,
      last_error: null,
      created_at: draft.occurred_at,
      // A claimed row (a trigger publishing it now) is not due for the relay until the claim ends.
      next_attempt_at: (options.claimUntil ?? new Date(draft.occurred_at)).toISOString(),
      published_at: null,
      traceparent: options.traceparent ?? null,
    };
    if (this.dialect === "postgres") {
      // One round trip: the user's next number and the row together.
      const result = await sql<{ id: number; sequence: number }>`
        with next as (
          insert into user_sequences (user_id, last_sequence, pruned_through) values (${draft.user_id}, 1, 0)
          on conflict (user_id) do update set last_sequence = user_sequences.last_sequence + 1
          returning last_sequence
        )
        insert into outbox (event_id, sequence, user_id, action, task_id, payload, status, attempts, last_error,
                            created_at, next_attempt_at, published_at, traceparent)
        select ${row.event_id}, next.last_sequence, ${row.user_id}, ${row.action}, ${row.task_id}, ${row.payload},
               ${row.status}, ${row.attempts}, ${row.last_error}, ${row.created_at}, ${row.next_attempt_at},
               ${row.published_at}, ${row.traceparent}
        from next
        returning id, sequence`.execute(trx);
      const inserted = result.rows[0];
      return { id: Number(inserted.id), payload: { ...draft, sequence: Number(inserted.sequence) } };
    }
    const sequence = await this.nextSequence(trx, draft.user_id);
    const inserted = (await insertRow.execute(trx, { ...row, sequence })).rows[0];
    if (inserted === undefined) throw new Error("insert into outbox returned no row");
    return { id: Number(inserted.id), payload: { ...draft, sequence } };
  }

  /** Under the user's lock (serialiseUserWrites), so numbers are handed out in commit order. */
  private async nextSequence(trx: Executor, userId: string): Promise<number> {
    const row = (await takeNextSequence.execute(trx, { userId })).rows[0];
    if (row === undefined) throw new Error("the sequence upsert returned no row");
    return Number(row.last_sequence);
  }

  /** Whether an event of any of these users still waits to be published. */
  async anyPending(db: Executor, userIds: readonly string[]): Promise<boolean> {
    if (userIds.length === 0) return false;
    const row = await db
      .selectFrom("outbox")
      .select("id")
      .where("user_id", "in", userIds)
      .where("status", "=", PENDING_STATUS)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Whether one of the user's events still waits to be published (by the relay or a trigger). */
  async hasPending(db: Executor, userId: string): Promise<boolean> {
    return (await userHasPending.execute(db, { userId })).rows.length > 0;
  }

  async findById(db: Executor, id: number): Promise<OutboxRecord | undefined> {
    const row = await db.selectFrom("outbox").selectAll().where("id", "=", id).executeTakeFirst();
    return row === undefined ? undefined : toRecord(row);
  }

  async findByEventId(db: Executor, eventId: string): Promise<OutboxRecord | undefined> {
    const row = await db.selectFrom("outbox").selectAll().where("event_id", "=", eventId).executeTakeFirst();
    return row === undefined ? undefined : toRecord(row);
  }

  /** Takes a FAILED row back for another publish attempt; false when another request already did. */
  async claimFailed(db: Executor, id: number, claimUntil: Date): Promise<boolean> {
    const result = await db
      .updateTable("outbox")
      .set({ status: "PENDING", next_attempt_at: claimUntil.toISOString() })
      .where("id", "=", id)
      .where("status", "=", "FAILED")
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * A trigger's publish failed: the row becomes FAILED, which the relay never publishes, and the
   * user's later rows are no longer held back by it. False when the row was no longer PENDING
   * (the relay published it meanwhile).
   */
  async markTriggerFailed(db: Executor, id: number, error: string, at: Date): Promise<boolean> {
    const result = await db
      .updateTable("outbox")
      .set((eb) => ({
        status: "FAILED",
        attempts: eb("attempts", "+", 1),
        last_error: error.slice(0, MAX_ERROR_LENGTH),
        next_attempt_at: at.toISOString(),
      }))
      .where("id", "=", id)
      .where("status", "=", PENDING_STATUS)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
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
      .where("status", "=", PENDING_STATUS)
      .where("user_id", "not in", (eb) =>
        eb
          .selectFrom("outbox")
          .select("user_id")
          .where("status", "=", PENDING_STATUS)
          .where("next_attempt_at", ">", now.toISOString()),
      )
      .orderBy("id")
      .limit(limit)
      .execute();
    return rows.map(toRecord);
  }

  /**
   * Marks rows that reached the broker. A row a timed-out trigger marked FAILED just before its
   * publish was answered becomes PUBLISHED too: the log says what consumers got, and a retry with
   * the key then answers the published event instead of publishing it again.
   */
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
      .where("status", "in", ["PENDING", "FAILED"])
      .execute();
  }

  /** Which of these rows are still PENDING (a trigger may have given up on one meanwhile). */
  async stillPending(db: Executor, ids: readonly number[]): Promise<Set<number>> {
    if (ids.length === 0) return new Set();
    const rows = await db
      .selectFrom("outbox")
      .select("id")
      .where("id", "in", ids)
      .where("status", "=", PENDING_STATUS)
      .execute();
    return new Set(rows.map((row) => Number(row.id)));
  }

  /** Puts a FAILED row back in the relay's queue, behind the user's earlier pending rows. */
  async requeueFailed(db: Executor, id: number, at: Date): Promise<boolean> {
    const result = await db
      .updateTable("outbox")
      .set({ status: "PENDING", next_attempt_at: at.toISOString() })
      .where("id", "=", id)
      .where("status", "=", "FAILED")
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
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

  /** A user's events, newest first, by sequence (its unique index); `beforeSequence` continues a page. */
  async history(db: Executor, userId: string, limit: number, beforeSequence?: number): Promise<OutboxRecord[]> {
    let select = db.selectFrom("outbox").selectAll().where("user_id", "=", userId);
    if (beforeSequence !== undefined) select = select.where("sequence", "<", beforeSequence);
    const rows = await select.orderBy("sequence", "desc").limit(limit).execute();
    return rows.map(toRecord);
  }

  /**
   * The user's events after `afterSequence`, oldest first, for a resumed subscription. FAILED
   * rows never reached the broker and are left out; PENDING ones are in, since their delivery
   * may race the replay (the subscriber drops the copy that arrives later).
   */
  async replay(db: Executor, userId: string, afterSequence: number, limit: number): Promise<OutboxRecord[]> {
    const rows = await db
      .selectFrom("outbox")
      .selectAll()
      .where("user_id", "=", userId)
      .where("sequence", ">", afterSequence)
      .where("status", "!=", "FAILED")
      .orderBy("sequence")
      .limit(limit)
      .execute();
    return rows.map(toRecord);
  }

  /** The highest of the user's sequences that retention has removed (0 when none). */
  async prunedThrough(db: Executor, userId: string): Promise<number> {
    const row = await db
      .selectFrom("user_sequences")
      .select("pruned_through")
      .where("user_id", "=", userId)
      .executeTakeFirst();
    return row === undefined ? 0 : Number(row.pruned_through);
  }

  /**
   * Removes up to `limit` PUBLISHED or FAILED rows appended before `before`, oldest first, and
   * records per user how far the log was pruned. PENDING rows are never removed.
   */
  async prune(db: Executor, before: Date, limit: number): Promise<number> {
    return db.transaction().execute(async (trx) => {
      const victims = await trx
        .selectFrom("outbox")
        .select(["id", "user_id", "sequence"])
        .where("status", "in", ["PUBLISHED", "FAILED"])
        .where("created_at", "<", before.toISOString())
        // The age index finds the old rows without reading the young ones; ids break ties.
        .orderBy("created_at")
        .orderBy("id")
        .limit(limit)
        .execute();
      if (victims.length === 0) return 0;
      await trx
        .deleteFrom("outbox")
        .where(
          "id",
          "in",
          victims.map((victim) => victim.id),
        )
        .execute();
      const highestByUser = new Map<string, number>();
      for (const victim of victims) {
        highestByUser.set(victim.user_id, Math.max(highestByUser.get(victim.user_id) ?? 0, Number(victim.sequence)));
      }
      for (const [userId, sequence] of highestByUser) {
        await trx
          .updateTable("user_sequences")
          .set((eb) => ({
            pruned_through: sql<number>`case when ${eb.ref("pruned_through")} < ${sequence} then ${sequence} else ${eb.ref("pruned_through")} end`,
          }))
          .where("user_id", "=", userId)
          .execute();
      }
      return victims.length;
    });
  }

  async backlog(db: Executor, now: Date): Promise<OutboxBacklog> {
    // One round trip: the pending rows from the status index, the span from the primary key.
    const row = await db
      .selectFrom("outbox")
      .select((eb) => [
        eb.fn.countAll<number>().as("pending"),
        eb.fn.min("created_at").as("oldest"),
        eb
          .selectFrom("outbox")
          .select((inner) => inner.fn.max("id").as("newest"))
          .as("newest"),
        eb
          .selectFrom("outbox")
          .select((inner) => inner.fn.min("id").as("first"))
          .as("first"),
      ])
      .where("status", "=", PENDING_STATUS)
      .executeTakeFirstOrThrow();
    const oldest = row.oldest as string | null;
    const newest = row.newest === null ? null : Number(row.newest);
    const first = row.first === null ? null : Number(row.first);
    return {
      pending: Number(row.pending),
      oldestPendingAgeMs: oldest === null ? null : Math.max(0, now.getTime() - new Date(oldest).getTime()),
      span: newest === null || first === null ? 0 : newest - first + 1,
    };
  }
}

function toRecord(row: Selectable<OutboxTable>): OutboxRecord {
  return {
    id: Number(row.id),
    sequence: Number(row.sequence),
    // Rows written before sequences existed got theirs from the migration, not in their payload.
    event: { ...(JSON.parse(row.payload) as TodoEventPayload), sequence: Number(row.sequence) },
    status: row.status as OutboxStatus,
    attempts: row.attempts,
    lastError: row.last_error,
    createdAt: new Date(row.created_at),
    nextAttemptAt: new Date(row.next_attempt_at),
    publishedAt: row.published_at === null ? null : new Date(row.published_at),
    traceparent: row.traceparent,
  };
}
