/**
 * triggerTodoEvent's idempotency keys, in the database: unique per user and
 * key, kept for the idempotency window, so a retry that reaches another
 * instance, or this one after a restart, finds the event the first request made.
 */
import type { Kysely } from "kysely";
import type { DatabaseSchema } from "../../db/schema";

type Executor = Kysely<DatabaseSchema>;

export interface StoredKey {
  /** A digest of what the first request asked for. */
  readonly fingerprint: string;
  readonly eventId: string;
}

export class IdempotencyKeyRepository {
  async find(db: Executor, userId: string, key: string, now: Date): Promise<StoredKey | undefined> {
    const row = await db
      .selectFrom("idempotency_keys")
      .select(["fingerprint", "event_id"])
      .where("user_id", "=", userId)
      .where("idempotency_key", "=", key)
      .where("expires_at", ">", now.toISOString())
      .executeTakeFirst();
    return row === undefined ? undefined : { fingerprint: row.fingerprint, eventId: row.event_id };
  }

  /**
   * Under the user's lock: no other request of the user can write the same key meanwhile. An
   * expired row of the key, not yet removed by retention, is replaced.
   */
  async remember(
    db: Executor,
    entry: { userId: string; key: string; fingerprint: string; eventId: string; expiresAt: Date },
  ): Promise<void> {
    const stored = {
      fingerprint: entry.fingerprint,
      event_id: entry.eventId,
      expires_at: entry.expiresAt.toISOString(),
    };
    await db
      .insertInto("idempotency_keys")
      .values({ user_id: entry.userId, idempotency_key: entry.key, ...stored })
      .onConflict((conflict) => conflict.columns(["user_id", "idempotency_key"]).doUpdateSet(stored))
      .execute();
  }

  /** Removes up to `limit` expired keys in one statement; the count removed. */
  async pruneExpired(db: Executor, now: Date, limit: number): Promise<number> {
    const result = await db
      .deleteFrom("idempotency_keys")
      .where((eb) =>
        eb(
          eb.refTuple("user_id", "idempotency_key"),
          "in",
          eb
            .selectFrom("idempotency_keys")
            .select(["user_id", "idempotency_key"])
            .where("expires_at", "<=", now.toISOString())
            .limit(limit)
            .$asTuple("user_id", "idempotency_key"),
        ),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
