import {
  CompiledQuery,
  Kysely,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
} from "kysely";
import { DatabaseUnavailableError } from "../../../src/db/errors";
import { faultAwareDialect } from "../../../src/db/fault-aware-dialect";
import { StorageStatus } from "../../../src/db/storage-status";

const sqliteError = (code: string, message: string): Error => Object.assign(new Error(message), { code });

/** A driver whose statements answer as the test says; records the SQL it was sent. */
class ScriptedDriver implements Driver {
  readonly sent: string[] = [];
  /** Matched against each statement's SQL; the first match throws its error. */
  failures: { readonly when: RegExp; readonly error: Error }[] = [];

  private readonly connection: DatabaseConnection = {
    executeQuery: async <R>(query: CompiledQuery): Promise<QueryResult<R>> => {
      this.sent.push(query.sql);
      const failure = this.failures.find((candidate) => candidate.when.test(query.sql));
      if (failure !== undefined) throw failure.error;
      return { rows: [] };
    },
    streamQuery: () => {
      throw new Error("not used");
    },
  };

  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    return this.connection;
  }
  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin"));
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("commit"));
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("rollback"));
  }
  async releaseConnection(): Promise<void> {}
  async destroy(): Promise<void> {}
}

interface Table {
  todos: { id: number; title: string };
}

function database(): { db: Kysely<Table>; driver: ScriptedDriver; storage: StorageStatus } {
  const driver = new ScriptedDriver();
  const storage = new StorageStatus();
  const inner: Dialect = {
    createDriver: () => driver,
    createQueryCompiler: () => new SqliteQueryCompiler(),
    createAdapter: () => new SqliteAdapter(),
    createIntrospector: (db) => new SqliteIntrospector(db),
  };
  return { db: new Kysely<Table>({ dialect: faultAwareDialect(inner, storage) }), driver, storage };
}

const insertIn = (db: Kysely<Table>) => db.insertInto("todos").values({ id: 1, title: "x" });

describe("faultAwareDialect", () => {
  it("turns a full disk into SERVICE_UNAVAILABLE and marks the storage full", async () => {
    const { db, driver, storage } = database();
    driver.failures = [{ when: /^insert/, error: sqliteError("SQLITE_FULL", "database or disk is full") }];

    const failure = await insertIn(db)
      .execute()
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(DatabaseUnavailableError);
    expect(failure).toMatchObject({ code: "SERVICE_UNAVAILABLE", extensions: { reason: "storage_full" } });
    expect(storage.read()).toMatchObject({ state: "full", refusedWrites: 1 });
  });

  it("passes other errors unchanged", async () => {
    const { db, driver, storage } = database();
    const unique = sqliteError("SQLITE_CONSTRAINT_UNIQUE", "UNIQUE constraint failed");
    driver.failures = [{ when: /^insert/, error: unique }];

    const failure = await insertIn(db)
      .execute()
      .catch((error: unknown) => error);

    expect(failure).toBe(unique);
    expect(storage.read()).toEqual({ state: "ok" });
  });

  it("reports the fault, not the rollback's complaint, when the engine already ended the transaction", async () => {
    const { db, driver } = database();
    driver.failures = [
      { when: /^commit/, error: sqliteError("SQLITE_FULL", "database or disk is full") },
      { when: /^rollback/, error: sqliteError("SQLITE_ERROR", "cannot rollback - no transaction is active") },
    ];

    const failure = await db
      .transaction()
      .execute((trx) => insertIn(trx).execute())
      .catch((error: unknown) => error);

    expect(failure).toMatchObject({ code: "SERVICE_UNAVAILABLE", extensions: { reason: "storage_full" } });
    expect(driver.sent).toEqual(["begin", expect.stringMatching(/^insert/), "commit", "rollback"]);
  });

  it("keeps a rollback's own error when no fault came before it", async () => {
    const { db, driver } = database();
    const rollbackError = sqliteError("SQLITE_ERROR", "cannot rollback - no transaction is active");
    driver.failures = [{ when: /^rollback/, error: rollbackError }];

    const failure = await db
      .transaction()
      .execute(async () => {
        throw new Error("the caller's own failure");
      })
      .catch((error: unknown) => error);

    expect(failure).toBe(rollbackError);
  });

  it("does not count the storage as back when only an update commits", async () => {
    const { db, driver, storage } = database();
    driver.failures = [{ when: /^insert/, error: sqliteError("SQLITE_FULL", "database or disk is full") }];
    await insertIn(db)
      .execute()
      .catch(() => undefined);

    await db.updateTable("todos").set({ title: "y" }).execute();
    await db.transaction().execute((trx) => trx.updateTable("todos").set({ title: "z" }).execute());

    expect(storage.read().state).toBe("full");
  });

  it("counts the storage as back only once a write that adds rows commits", async () => {
    const { db, driver, storage } = database();
    driver.failures = [{ when: /^insert/, error: sqliteError("SQLITE_FULL", "database or disk is full") }];
    await insertIn(db)
      .execute()
      .catch(() => undefined);
    driver.failures = [];

    await db.selectFrom("todos").selectAll().execute();
    const afterRead = storage.read().state;
    await db.transaction().execute((trx) => insertIn(trx).execute());

    expect(afterRead).toBe("full");
    expect(storage.read()).toEqual({ state: "ok" });
  });
});
