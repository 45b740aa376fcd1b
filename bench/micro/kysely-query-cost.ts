/**
 * What Kysely adds to a short query, on SQLite in memory: the ownership check built, compiled and
 * run as the repositories did before, built and compiled alone, run from its compiled form (what
 * PreparedQuery does), and as a prepared statement called directly. CPU µs per call over a loop.
 *
 *   npx ts-node --transpile-only bench/micro/kysely-query-cost.ts
 */
import SqliteDatabase from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { openDatabase } from "../../src/db/database";
import type { DatabaseSchema } from "../../src/db/schema";

const CALLS = 50_000;

async function main(): Promise<void> {
  const database = await openDatabase("sqlite::memory:");
  const db = database.db;
  const now = new Date().toISOString();
  await db
    .insertInto("todos")
    .values({ user_id: "alice", title: "t", completed: 0, priority: "LOW", created_at: now, updated_at: now })
    .execute();
  const build = (kysely: Kysely<DatabaseSchema>, userId: string, id: number) =>
    kysely.selectFrom("todos").select("id").where("user_id", "=", userId).where("id", "=", id);
  const compiled = build(db, "alice", 1).compile();

  await report("built, compiled and run", () => build(db, "alice", 1).executeTakeFirst());
  await report("built and compiled", async () => build(db, "alice", 1).compile());
  await report("run from its compiled form", () => db.executeQuery({ ...compiled, parameters: ["alice", 1] }));
  await database.close();

  // The same query on a bare better-sqlite3 database, prepared once.
  const sqlite = new SqliteDatabase(":memory:");
  sqlite.exec("create table todos (id integer primary key, user_id text not null)");
  sqlite.prepare("insert into todos (user_id) values ('alice')").run();
  const statement = sqlite.prepare(compiled.sql);
  await report("prepared statement called directly", async () => statement.get("alice", 1));
  // Kysely with its stock SQLite dialect, for what the product's own layers add on top.
  const stock = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: sqlite }) });
  await report("stock SqliteDialect: built, compiled and run", () => build(stock, "alice", 1).executeTakeFirst());
  await stock.destroy();
}

async function report(label: string, call: () => Promise<unknown>): Promise<void> {
  for (let warm = 0; warm < CALLS / 10; warm++) await call();
  const start = process.cpuUsage();
  for (let index = 0; index < CALLS; index++) await call();
  const spent = process.cpuUsage(start);
  process.stdout.write(`${label}: ${((spent.user + spent.system) / CALLS).toFixed(2)} µs CPU per call\n`);
}

void main();
