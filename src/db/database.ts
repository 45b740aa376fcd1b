/**
 * Opens the configured database (SQLite embedded by default, PostgreSQL for
 * scale-out), runs the migrations and hands out one typed Kysely instance.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { Kysely, Migrator, PostgresDialect } from "kysely";
import { Pool, types } from "pg";
import { parseDatabaseUrl, type DatabaseLocation } from "./database-url";
import { faultAwareDialect } from "./fault-aware-dialect";
import { migrationProvider } from "./migrations";
import { LimitCastingSqliteDialect } from "./sqlite-limit-cast";
import { withStatementCache } from "./sqlite-statement-cache";
import type { DatabaseSchema } from "./schema";
import { StorageStatus } from "./storage-status";

export type DatabaseDialect = DatabaseLocation["dialect"];

export interface Database {
  readonly db: Kysely<DatabaseSchema>;
  readonly dialect: DatabaseDialect;
  /** PostgreSQL only: the pool, for session-level locks that need a dedicated connection. */
  readonly pool?: Pool;
  /** Whether writes last found space (a full disk makes the database read-only until they do). */
  readonly storage: StorageStatus;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Connections per instance (PostgreSQL). */
  readonly poolSize?: number;
}

// COUNT(*) and BIGSERIAL come back as int8 strings by default; our counts and ids fit a double.
types.setTypeParser(types.builtins.INT8, (value) => Number(value));

export async function openDatabase(url: string, options: OpenDatabaseOptions = {}): Promise<Database> {
  const location = parseDatabaseUrl(url);
  const database =
    location.dialect === "postgres" ? openPostgres(location.connectionString, options) : openSqlite(location.path);
  try {
    await migrate(database);
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}

function openSqlite(path: string): Database {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SqliteDatabase(path);
  // WAL lets readers run during the relay's writes; the busy timeout rides out a
  // second process (e.g. a CLI) holding the write lock briefly.
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = NORMAL");
  sqlite.pragma("busy_timeout = 5000");
  const storage = new StorageStatus();
  const db = new Kysely<DatabaseSchema>({
    dialect: faultAwareDialect(new LimitCastingSqliteDialect({ database: withStatementCache(sqlite) }), storage),
  });
  return { db, dialect: "sqlite", storage, close: () => db.destroy() };
}

function openPostgres(connectionString: string, options: OpenDatabaseOptions): Database {
  const pool = new Pool({ connectionString, max: options.poolSize ?? 10 });
  // A client losing its server (restart, failover) must not crash the process. The pool
  // handles idle clients; a checked-out client (e.g. inside a transaction) emits on itself,
  // so every client gets a listener. The failed query still rejects, and pg-pool drops the
  // broken client when it is released.
  pool.on("error", () => undefined);
  pool.on("connect", (client) => client.on("error", () => undefined));
  const storage = new StorageStatus();
  const db = new Kysely<DatabaseSchema>({ dialect: faultAwareDialect(new PostgresDialect({ pool }), storage) });
  return { db, dialect: "postgres", pool, storage, close: () => db.destroy() };
}

async function migrate(database: Database): Promise<void> {
  const migrator = new Migrator({ db: database.db, provider: migrationProvider(database.dialect) });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((result) => result.status === "Error");
  if (error !== undefined || failed !== undefined) {
    const name = failed?.migrationName ?? "unknown";
    throw new Error(`database migration ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
