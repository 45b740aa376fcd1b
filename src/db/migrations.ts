/**
 * Schema migrations, run at start-up for both dialects. Kysely's migrator
 * records applied ones and takes a lock, so several instances starting at
 * once against one PostgreSQL database apply each migration exactly once.
 */
import type { ColumnDefinitionBuilder, Kysely, Migration, MigrationProvider } from "kysely";
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
  };
}

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return { getMigrations: async () => migrationsFor(dialect) };
}
