/**
 * Queries built and compiled once, on SQLite and PostgreSQL: each call runs with its own values,
 * the query is built once per database, and a value that would not become a parameter is refused
 * when the query is compiled rather than run with a stand-in.
 */
import { sql, type Kysely } from "kysely";
import { PreparedQuery } from "../../../src/db/prepared-query";
import type { DatabaseSchema } from "../../../src/db/schema";
import { DIALECTS, openTestDatabase, type TestDatabase } from "../../support/databases";

type Executor = Kysely<DatabaseSchema>;

describe.each(DIALECTS)("prepared queries on %s", (dialect) => {
  let database: TestDatabase;

  beforeEach(async () => {
    database = await openTestDatabase(dialect);
    const now = new Date().toISOString();
    await database.db
      .insertInto("todos")
      .values(
        ["alice", "alice", "bob"].map((userId, index) => ({
          user_id: userId,
          title: `t${index}`,
          completed: 0,
          priority: "LOW",
          created_at: now,
          updated_at: now,
        })),
      )
      .execute();
  });
  afterEach(() => database.dispose());

  const titlesOf = (build: jest.Mock) =>
    new PreparedQuery((db: Executor, values: { userId: string; completed: number }) => {
      build();
      return db
        .selectFrom("todos")
        .select("title")
        .where("user_id", "=", values.userId)
        .where("completed", "=", values.completed)
        .where("priority", "=", "LOW")
        .orderBy("id");
    });

  it("runs each call with its own values, constants of the query kept", async () => {
    const query = titlesOf(jest.fn());

    const alice = await query.execute(database.db, { userId: "alice", completed: 0 });
    const bob = await query.execute(database.db, { userId: "bob", completed: 0 });
    const none = await query.execute(database.db, { userId: "alice", completed: 1 });

    expect(alice.rows.map((row) => row.title)).toEqual(["t0", "t1"]);
    expect(bob.rows.map((row) => row.title)).toEqual(["t2"]);
    expect(none.rows).toEqual([]);
  });

  it("builds the query once for a database, inside its transactions too", async () => {
    const build = jest.fn();
    const query = titlesOf(build);

    await query.execute(database.db, { userId: "alice", completed: 0 });
    await database.db.transaction().execute((trx) => query.execute(trx, { userId: "bob", completed: 0 }));
    await query.execute(database.db, { userId: "bob", completed: 0 });

    expect(build).toHaveBeenCalledTimes(1);
  });

  it("refuses a query in which a value would be written into the SQL instead of a parameter", async () => {
    const query = new PreparedQuery((db: Executor, values: { title: string }) =>
      db.selectFrom("todos").select("id").where("title", "=", sql.lit(values.title)),
    );

    await expect(query.execute(database.db, { title: "t0" })).rejects.toThrow(/did not become parameters/);
  });
});
