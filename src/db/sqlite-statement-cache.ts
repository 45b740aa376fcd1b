/**
 * better-sqlite3 behind Kysely, with prepared statements kept per SQL text. Kysely prepares
 * every query anew, and the profile of the trigger mutation showed that work (the ownership
 * check is the same SQL on every request) as a visible share of the API's CPU.
 */
import type SqliteDatabase from "better-sqlite3";
import type { SqliteDatabase as KyselySqliteDatabase, SqliteStatement } from "kysely";

/**
 * Reusing a statement is safe because better-sqlite3 runs each one to completion synchronously.
 * The one exception is a statement being iterated (Kysely's `.stream()`), which this project
 * does not use. Least recently used statements are dropped beyond `capacity` (queries with
 * `in (...)` lists of varying length produce many SQL texts).
 */
export function withStatementCache(sqlite: SqliteDatabase.Database, capacity = 256): KyselySqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => sqlite.close(),
    prepare(sqlText: string): SqliteStatement {
      const cached = statements.get(sqlText);
      if (cached !== undefined) {
        // Re-inserting moves it to the end: Map iteration order is the eviction order.
        statements.delete(sqlText);
        statements.set(sqlText, cached);
        return cached;
      }
      const statement = sqlite.prepare(sqlText);
      statements.set(sqlText, statement);
      if (statements.size > capacity) {
        const oldest = statements.keys().next();
        if (oldest.done !== true) statements.delete(oldest.value);
      }
      return statement;
    },
  };
}
