/**
 * The queries that look for pending rows read the partial indexes of pending rows (SQLite's plans).
 * SQLite takes a partial index only for a condition that names its literal; a query that bound
 * 'PENDING' as a parameter would still answer right, only by reading a full index or the table,
 * so nothing else would notice. Retention and a user's history have their plans pinned too: each
 * has one index written for it, and a wrong plan would read every row.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SqliteDatabase from "better-sqlite3";
import { openDatabase, type Database } from "../../../../src/db/database";
import { OutboxRepository } from "../../../../src/events/log/outbox.repository";
import { IdempotencyKeyRepository } from "../../../../src/events/trigger/idempotency-key.repository";
import { TodoRepository } from "../../../../src/todos/todo.repository";

describe("the outbox queries' indexes", () => {
  let dir: string;
  let database: Database;
  let inspector: SqliteDatabase.Database;
  const prepared: string[] = [];
  /** Every text prepared in this file: the statement cache prepares each text only once. */
  const everPrepared = new Set<string>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "todo-outbox-query-plans-"));
    const path = join(dir, "todos.db");
    database = await openDatabase(`sqlite:${path}`);
    inspector = new SqliteDatabase(path, { readonly: true });
    const prepare = SqliteDatabase.prototype.prepare;
    jest.spyOn(SqliteDatabase.prototype, "prepare").mockImplementation(function (this: SqliteDatabase.Database, text) {
      if (this !== inspector) {
        prepared.push(text);
        everPrepared.add(text);
      }
      return prepare.call(this, text);
    });
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    inspector.close();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The plan SQLite chooses for the statement the call prepared (the statement cache prepares each text once). */
  async function planOf(call: () => Promise<unknown>): Promise<string> {
    prepared.length = 0;
    await call();
    const text = prepared.find((sqlText) => /"outbox"/.test(sqlText));
    if (text === undefined) throw new Error("the call prepared no statement on the outbox");
    const parameters = (text.match(/\?/g) ?? []).map(() => "x");
    const rows = inspector.prepare(`explain query plan ${text}`).all(...parameters) as { detail: string }[];
    return rows.map((row) => row.detail).join(" | ");
  }

  const log = new OutboxRepository("sqlite");
  const now = new Date("2026-12-01T12:00:00.000Z");

  it("a user's pending check", async () => {
    expect(await planOf(() => log.hasPending(database.db, "alice"))).toMatch(/outbox_pending_user_id/);
  });

  it("the pending check of several users", async () => {
    expect(await planOf(() => log.anyPending(database.db, ["alice", "bob"]))).toMatch(/outbox_pending_user_id/);
  });

  it("the relay's queue", async () => {
    expect(await planOf(() => log.due(database.db, 100, now))).toMatch(/SCAN outbox USING INDEX outbox_pending_id/);
  });

  it("the backlog the metrics and /readyz report", async () => {
    expect(await planOf(() => log.backlog(database.db, now))).toMatch(/outbox_pending_id/);
  });

  it("a user's history, which reads the index of the user's sequences", async () => {
    expect(await planOf(() => log.history(database.db, "alice", 21, 40))).toMatch(
      /SEARCH outbox USING INDEX outbox_user_id_sequence \(user_id=\? AND sequence<\?\)/,
    );
  });

  it("retention, which walks the age index", async () => {
    expect(await planOf(() => log.prune(database.db, now, 10))).toMatch(/SEARCH outbox USING INDEX outbox_created_at/);
  });

  it("binds no LIMIT bare: a bare `limit ?` made every run of its statement 5–7 µs slower", async () => {
    await log.hasPending(database.db, "alice");
    await log.anyPending(database.db, ["alice", "bob"]);
    await log.due(database.db, 100, now);
    await log.history(database.db, "alice", 21, 40);
    await log.prune(database.db, now, 10);
    await new TodoRepository().list(database.db, "alice", { limit: 21 });
    await new IdempotencyKeyRepository().pruneExpired(database.db, now, 10);

    const limited = [...everPrepared].filter((text) => /\blimit\b/i.test(text));
    expect(limited).toHaveLength(7);
    expect(limited.filter((text) => /\blimit \?/i.test(text))).toEqual([]);
  });
});
