/**
 * Real databases for tests: SQLite in memory, and a fresh database on the
 * PostgreSQL server that the integration tier's global set-up started.
 */
import { randomBytes } from "node:crypto";
import { Client } from "pg";
import { openDatabase, type Database, type DatabaseDialect } from "../../src/db/database";

export const POSTGRES_URL_VARIABLE = "TEST_POSTGRES_URL";

export interface TestDatabase extends Database {
  readonly url: string;
  /** Closes the connections and drops the database (PostgreSQL). */
  dispose(): Promise<void>;
}

export async function openTestDatabase(
  dialect: DatabaseDialect,
  options: { poolSize?: number } = {},
): Promise<TestDatabase> {
  if (dialect === "sqlite") {
    const database = await openDatabase("sqlite::memory:");
    return { ...database, url: "sqlite::memory:", dispose: () => database.close() };
  }
  const serverUrl = process.env[POSTGRES_URL_VARIABLE];
  if (serverUrl === undefined) {
    throw new Error(
      `${POSTGRES_URL_VARIABLE} is not set: the integration tier's global set-up starts PostgreSQL (see jest.config.js)`,
    );
  }
  const name = `todos_${randomBytes(6).toString("hex")}`;
  await withAdminClient(serverUrl, (client) => client.query(`create database ${name}`));
  const url = serverUrl.replace(/\/[^/]*$/, `/${name}`);
  const database = await openDatabase(url, { poolSize: options.poolSize });
  return {
    ...database,
    url,
    async dispose() {
      await database.close();
      await withAdminClient(serverUrl, (client) => client.query(`drop database if exists ${name} with (force)`));
    },
  };
}

/** Both engines, for `describe.each`. */
export const DIALECTS: readonly DatabaseDialect[] = ["sqlite", "postgres"];

async function withAdminClient<T>(url: string, run: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}
