/**
 * Schema migrations, run at start-up for both dialects. Kysely's migrator
 * records applied ones and takes a lock, so several instances starting at
 * once against one PostgreSQL database apply each migration exactly once.
 */
import { sql, type ColumnDefinitionBuilder, type Kysely, type Migration, type MigrationProvider } from "kysely";
import type { DatabaseLocation } from "./database-url";

type Dialect = DatabaseLocation["dialect"];

function migrationsFor(dialect: Dialect): Record<string, Migration> {
  // The only dialect difference: how an auto-incrementing key is spelled.
  const autoIncrementing = (type: "serial" | "bigserial") =>
    [
      dialect === "postgres" ? type : "integer",
      (column: ColumnDefinitionBuilder) =>
        dialect === "postgres" ? column.primaryKey() : column.primaryKey().autoIncrement(),
    ] as const;
  return {
    "2026-11-29-001-todos-and-outbox": {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable("todos")
          .ifNotExists()
          .addColumn("id", ...autoIncrementing("serial"))
          .addColumn("user_id", "text", (column) => column.notNull())
          .addColumn("title", "text", (column) => column.notNull())
          .addColumn("description", "text")
          .addColumn("completed", "integer", (column) => column.notNull().defaultTo(0))
          .addColumn("priority", "text", (column) => column.notNull())
          .addColumn("due_at", "text")
          .addColumn("created_at", "text", (column) => column.notNull())
          .addColumn("updated_at", "text", (column) => column.notNull())
          .addColumn("idempotency_key", "text")
          .execute();
        await db.schema.createIndex("todos_user_id_id").ifNotExists().on("todos").columns(["user_id", "id"]).execute();
        await db.schema
          .createIndex("todos_user_idempotency_key")
          .ifNotExists()
          .unique()
          .on("todos")
          .columns(["user_id", "idempotency_key"])
          .execute();

        await db.schema
          .createTable("outbox")
          .ifNotExists()
          .addColumn("id", ...autoIncrementing("bigserial"))
          .addColumn("event_id", "text", (column) => column.notNull().unique())
          .addColumn("user_id", "text", (column) => column.notNull())
          .addColumn("action", "text", (column) => column.notNull())
          .addColumn("task_id", "integer", (column) => column.notNull())
          .addColumn("payload", "text", (column) => column.notNull())
          .addColumn("status", "text", (column) => column.notNull())
          .addColumn("attempts", "integer", (column) => column.notNull().defaultTo(0))
          .addColumn("last_error", "text")
          .addColumn("created_at", "text", (column) => column.notNull())
          .addColumn("next_attempt_at", "text", (column) => column.notNull())
          .addColumn("published_at", "text")
          .addColumn("traceparent", "text")
          .execute();
        // The relay scans pending rows in id order; history reads a user's rows newest first.
        await db.schema.createIndex("outbox_status_id").ifNotExists().on("outbox").columns(["status", "id"]).execute();
        await db.schema
          .createIndex("outbox_user_id_id")
          .ifNotExists()
          .on("outbox")
          .columns(["user_id", "id"])
          .execute();
      },
    },
    "2026-12-01-002-event-log-sequences": {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable("outbox").addColumn("sequence", "integer").execute();
        // Rows written before sequences existed are numbered in their append order, per user.
        await sql`
          update outbox set sequence = numbered.sequence
          from (select id, row_number() over (partition by user_id order by id) as sequence from outbox) as numbered
          where outbox.id = numbered.id`.execute(db);
        if (dialect === "postgres") {
          await sql`alter table outbox alter column sequence set not null`.execute(db);
        }
        await db.schema
          .createIndex("outbox_user_id_sequence")
          .unique()
          .on("outbox")
          .columns(["user_id", "sequence"])
          .execute();
        await db.schema
          .createTable("user_sequences")
          .addColumn("user_id", "text", (column) => column.primaryKey())
          .addColumn("last_sequence", "integer", (column) => column.notNull())
          .addColumn("pruned_through", "integer", (column) => column.notNull().defaultTo(0))
          .execute();
        await sql`
          insert into user_sequences (user_id, last_sequence, pruned_through)
          select user_id, max(sequence), 0 from outbox group by user_id`.execute(db);
        await db.schema
          .createTable("idempotency_keys")
          .addColumn("user_id", "text", (column) => column.notNull())
          .addColumn("idempotency_key", "text", (column) => column.notNull())
          .addColumn("fingerprint", "text", (column) => column.notNull())
          .addColumn("event_id", "text", (column) => column.notNull())
          .addColumn("expires_at", "text", (column) => column.notNull())
          .addPrimaryKeyConstraint("idempotency_keys_pk", ["user_id", "idempotency_key"])
          .execute();
        await db.schema
          .createIndex("idempotency_keys_expires_at")
          .on("idempotency_keys")
          .column("expires_at")
          .execute();
        // Retention reads old rows by age; a trigger asks whether its user has a pending row.
        await db.schema.createIndex("outbox_created_at").on("outbox").column("created_at").execute();
        await db.schema.createIndex("outbox_user_id_status").on("outbox").columns(["user_id", "status"]).execute();
      },
    },
    "2026-12-01-003-outbox-pending-partial-indexes": {
      // The relay's queue and a user's pending check read only PENDING rows, a handful at any
      // time; indexes over every row made each append write two more entries of a large index and
      // each publish move one in both. Partial indexes hold the pending rows alone. A query uses
      // them only when it names the status as a literal (PENDING_STATUS in the outbox repository).
      async up(db: Kysely<unknown>) {
        await db.schema
          .createIndex("outbox_pending_id")
          .on("outbox")
          .column("id")
          .where(sql.ref("status"), "=", sql.lit("PENDING"))
          .execute();
        await db.schema
          .createIndex("outbox_pending_user_id")
          .on("outbox")
          .column("user_id")
          .where(sql.ref("status"), "=", sql.lit("PENDING"))
          .execute();
        await db.schema.dropIndex("outbox_status_id").execute();
        await db.schema.dropIndex("outbox_user_id_status").execute();
      },
    },
    "2026-12-01-004-drop-outbox-user-id-id": {
      // A user's history is read by (user_id, sequence), the unique index replays already use, in
      // the same order: a user's ids and sequences rise together. The index by (user_id, id) only
      // cost every append one more entry, on one page per user of the commit.
      async up(db: Kysely<unknown>) {
        await db.schema.dropIndex("outbox_user_id_id").execute();
      },
    },
  };
}

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return { getMigrations: async () => migrationsFor(dialect) };
}
