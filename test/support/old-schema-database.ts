/**
 * A database as the version before event sequences left it: only the first migration applied,
 * and outbox rows written the way that version wrote them (no sequence, neither as a column
 * nor in the payload). Opening it with `openDatabase` then runs the upgrade under test.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type Generated, type MigrationProvider } from "kysely";
import { Client, Pool } from "pg";
import type { DatabaseDialect } from "../../src/db/database";
import { migrationProvider } from "../../src/db/migrations";
import { POSTGRES_URL_VARIABLE } from "./databases";

/** The first migration: the schema the previous version ran on. */
export const FIRST_MIGRATION = "2026-11-29-001-todos-and-outbox";

/** The outbox as the previous version knew it. */
interface PreviousOutboxTable {
  id: Generated<number>;
  event_id: string;
  user_id: string;
  action: string;
  task_id: number;
  payload: string;
  status: string;
  attempts: number;
  last_error: string | null;
  created_at: string;
  next_attempt_at: string;
  published_at: string | null;
  traceparent: string | null;
}

interface PreviousSchema {
  outbox: PreviousOutboxTable;
}

export interface PreviousEvent {
  readonly userId: string;
  readonly action: string;
  readonly taskId: number;
  readonly status: "PENDING" | "PUBLISHED";
}

export interface PreviousVersionDatabase {
  /** Where `openDatabase` finds it. */
  readonly url: string;
  /** Appends an event as the previous version did; its event id. */
  append(event: PreviousEvent): Promise<string>;
  /** Ends the previous version's connection, as its process would on shutdown. */
  close(): Promise<void>;
  /** Removes the database (its file, or the PostgreSQL database). */
  dispose(): Promise<void>;
}

export async function createPreviousVersionDatabase(dialect: DatabaseDialect): Promise<PreviousVersionDatabase> {
  const target = dialect === "sqlite" ? sqliteFile() : await postgresDatabase();
  const db = target.connect();
  const { error } = await new Migrator({ db, provider: firstMigrationOnly(dialect) }).migrateToLatest();
  if (error !== undefined) {
    await db.destroy();
    await target.remove();
    throw new Error("the first migration failed", { cause: error });
  }
  let open = true;
  const close = async () => {
    if (!open) return;
    open = false;
    await db.destroy();
  };
  return {
    url: target.url,
    append: (event) => appendAsPreviousVersion(db, event),
    close,
    async dispose() {
      await close();
      await target.remove();
    },
  };
}

function firstMigrationOnly(dialect: DatabaseDialect): MigrationProvider {
  return {
    async getMigrations() {
      const all = await migrationProvider(dialect).getMigrations();
      return { [FIRST_MIGRATION]: all[FIRST_MIGRATION] };
    },
  };
}

async function appendAsPreviousVersion(db: Kysely<PreviousSchema>, event: PreviousEvent): Promise<string> {
  const eventId = randomUUID();
  const occurredAt = new Date().toISOString();
  const payload = {
    event_id: eventId,
    action: event.action,
    task_id: event.taskId,
    user_id: event.userId,
    details: {},
    occurred_at: occurredAt,
    schema_version: 1,
  };
  await db
    .insertInto("outbox")
    .values({
      event_id: eventId,
      user_id: event.userId,
      action: event.action,
      task_id: event.taskId,
      payload: JSON.stringify(payload),
      status: event.status,
      attempts: event.status === "PUBLISHED" ? 1 : 0,
      last_error: null,
      created_at: occurredAt,
      next_attempt_at: occurredAt,
      published_at: event.status === "PUBLISHED" ? occurredAt : null,
      traceparent: null,
    })
    .execute();
  return eventId;
}

interface Target {
  readonly url: string;
  connect(): Kysely<PreviousSchema>;
  remove(): Promise<void>;
}

/** A file, since the upgrade opens the database anew. */
function sqliteFile(): Target {
  const dir = mkdtempSync(join(tmpdir(), "todo-previous-"));
  const path = join(dir, "todos.db");
  return {
    url: `sqlite:${path}`,
    connect: () => new Kysely<PreviousSchema>({ dialect: new SqliteDialect({ database: new SqliteDatabase(path) }) }),
    remove: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A database of its own on the integration tier's server, so the upgrade really runs on it. */
async function postgresDatabase(): Promise<Target> {
  const serverUrl = process.env[POSTGRES_URL_VARIABLE];
  if (serverUrl === undefined) {
    throw new Error(`${POSTGRES_URL_VARIABLE} is not set: the integration tier's global set-up starts PostgreSQL`);
  }
  const name = `todos_previous_${randomBytes(6).toString("hex")}`;
  await withServerClient(serverUrl, (client) => client.query(`create database ${name}`));
  const url = serverUrl.replace(/\/[^/]*$/, `/${name}`);
  return {
    url,
    connect: () =>
      new Kysely<PreviousSchema>({ dialect: new PostgresDialect({ pool: new Pool({ connectionString: url }) }) }),
    remove: async () => {
      await withServerClient(serverUrl, (client) => client.query(`drop database if exists ${name} with (force)`));
    },
  };
}

async function withServerClient<T>(url: string, run: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}
