/**
 * The group commit, on SQLite and PostgreSQL: the write transactions of one turn share one
 * transaction, each work still succeeds or fails alone, and a failure that must fail the batch
 * leaves none of it committed.
 */
import type { Kysely } from "kysely";
import { NotFoundError } from "../../../src/app-error";
import { GroupCommit } from "../../../src/db/group-commit";
import type { DatabaseSchema } from "../../../src/db/schema";
import { DIALECTS, openTestDatabase, type TestDatabase } from "../../support/databases";

describe.each(DIALECTS)("group commit on %s", (dialect) => {
  let database: TestDatabase;

  beforeEach(async () => {
    database = await openTestDatabase(dialect);
  });
  afterEach(() => database.dispose());

  async function insertTodo(trx: Kysely<DatabaseSchema>, title: string): Promise<number> {
    const now = new Date().toISOString();
    const row = await trx
      .insertInto("todos")
      .values({ user_id: "alice", title, completed: 0, priority: "LOW", created_at: now, updated_at: now })
      .returning("id")
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  async function titles(): Promise<string[]> {
    const rows = await database.db.selectFrom("todos").select("title").orderBy("id").execute();
    return rows.map((row) => row.title);
  }

  it("commits the works of one turn in one transaction", async () => {
    const writes = new GroupCommit(database.db, 64);
    const transaction = jest.spyOn(database.db, "transaction");

    const ids = await Promise.all(["a", "b", "c"].map((title) => writes.run((trx) => insertTodo(trx, title))));

    expect(transaction).toHaveBeenCalledTimes(1);
    expect(new Set(ids).size).toBe(3);
    expect(await titles()).toEqual(["a", "b", "c"]);
  });

  it("undoes the writes of a work that fails after writing, and commits the others of its batch", async () => {
    const writes = new GroupCommit(database.db, 64);
    const failure = new Error("the work changed its mind");

    const outcomes = await Promise.allSettled([
      writes.run((trx) => insertTodo(trx, "a")),
      writes.run(async (trx) => {
        await insertTodo(trx, "b");
        throw failure;
      }),
      writes.run((trx) => insertTodo(trx, "c")),
    ]);

    expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(outcomes[1]?.status === "rejected" && outcomes[1].reason).toBe(failure);
    expect(await titles()).toEqual(["a", "c"]);
  });

  it("answers a refusal in a check to its work alone", async () => {
    const writes = new GroupCommit(database.db, 64);

    const outcomes = await Promise.allSettled([
      writes.runChecked({ check: () => Promise.resolve("a"), write: insertTodo }),
      writes.runChecked({ check: () => Promise.reject(new NotFoundError("Todo")), write: insertTodo }),
      writes.run((trx) => insertTodo(trx, "c")),
    ]);

    expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(outcomes[1]?.status === "rejected" && outcomes[1].reason).toBeInstanceOf(NotFoundError);
    expect(await titles()).toEqual(["a", "c"]);
  });

  it("fails every work of a batch whose checked write failed, and commits none of them", async () => {
    const writes = new GroupCommit(database.db, 64);
    const failure = new Error("disk I/O error");

    const outcomes = await Promise.allSettled([
      writes.run((trx) => insertTodo(trx, "a")),
      writes.runChecked({ check: () => Promise.resolve(), write: () => Promise.reject(failure) }),
      writes.run((trx) => insertTodo(trx, "c")),
    ]);

    expect(
      outcomes.map((outcome) => (outcome.status === "rejected" ? (outcome.reason as unknown) : "fulfilled")),
    ).toEqual([failure, failure, failure]);
    expect(await titles()).toEqual([]);
  });

  it("fails every work of a batch when a check fails with something other than a refusal", async () => {
    const writes = new GroupCommit(database.db, 64);
    const failure = new Error("database disk image is malformed");

    const outcomes = await Promise.allSettled([
      writes.run((trx) => insertTodo(trx, "a")),
      writes.runChecked({ check: () => Promise.reject(failure), write: insertTodo }),
    ]);

    expect(outcomes.map((outcome) => outcome.status)).toEqual(["rejected", "rejected"]);
    expect(await titles()).toEqual([]);
  });

  it("gives every work its own transaction when a batch holds one", async () => {
    const writes = new GroupCommit(database.db, 1);
    const transaction = jest.spyOn(database.db, "transaction");

    const outcomes = await Promise.allSettled([
      writes.run((trx) => insertTodo(trx, "a")),
      writes.run(async (trx) => {
        await insertTodo(trx, "b");
        throw new Error("rolled back alone");
      }),
      writes.runChecked({ check: () => Promise.resolve("c"), write: insertTodo }),
    ]);

    expect(transaction).toHaveBeenCalledTimes(3);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(await titles()).toEqual(["a", "c"]);
  });

  it("splits a turn with more works than a batch holds into several transactions", async () => {
    const writes = new GroupCommit(database.db, 2);
    const transaction = jest.spyOn(database.db, "transaction");

    await Promise.all(["a", "b", "c", "d", "e"].map((title) => writes.run((trx) => insertTodo(trx, title))));

    expect(transaction).toHaveBeenCalledTimes(3);
    // The batches run side by side (on PostgreSQL on separate connections): no order among them.
    expect((await titles()).sort()).toEqual(["a", "b", "c", "d", "e"]);
  });
});
