/** The SQLite statement cache: one prepared statement per SQL text, bounded, and results unchanged. */
import SqliteDatabase from "better-sqlite3";
import { withStatementCache } from "../../../src/db/sqlite-statement-cache";

describe("withStatementCache", () => {
  let sqlite: SqliteDatabase.Database;
  beforeEach(() => {
    sqlite = new SqliteDatabase(":memory:");
    sqlite.exec("create table item (id integer primary key, name text)");
  });
  afterEach(() => {
    if (sqlite.open) sqlite.close();
  });

  it("hands out the same statement for the same SQL, and it still sees new rows", () => {
    const database = withStatementCache(sqlite);
    const select = "select name from item where id = ?";

    const first = database.prepare(select);
    database.prepare("insert into item (id, name) values (?, ?)").run([1, "milk"]);
    const second = database.prepare(select);

    expect(second).toBe(first);
    expect(second.all([1])).toEqual([{ name: "milk" }]);
  });

  it("prepares again once a statement was evicted as the least recently used", () => {
    const database = withStatementCache(sqlite, 2);
    const a = database.prepare("select 1");
    const b = database.prepare("select 2");
    expect(database.prepare("select 1")).toBe(a); // now "select 2" is the least recently used
    database.prepare("select 3");

    expect(database.prepare("select 1")).toBe(a);
    expect(database.prepare("select 2")).not.toBe(b);
  });

  it("closes the underlying database", () => {
    withStatementCache(sqlite).close();

    expect(sqlite.open).toBe(false);
  });
});
