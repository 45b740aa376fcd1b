/** Recognises the database errors the rest of the code branches on, from either engine. */
import { AppError } from "../app-error";
import { ErrorCode } from "../error-codes";

/** Recognises a unique-constraint violation from either engine. */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE";
}

/**
 * Why the database cannot serve a request through no fault of the request: its storage is full
 * (SQLite's file or PostgreSQL's data directory), or the server is unreachable, restarting or
 * shutting down.
 */
export type DatabaseFault = "storage_full" | "database_unreachable";

/** PostgreSQL's SQLSTATEs for a full disk (53100) and for a server that cannot serve now. */
const POSTGRES_FAULTS: Readonly<Record<string, DatabaseFault>> = {
  "53100": "storage_full",
  "57P01": "database_unreachable", // admin_shutdown
  "57P02": "database_unreachable", // crash_shutdown
  "57P03": "database_unreachable", // cannot_connect_now (starting up, in recovery)
};
const SOCKET_ERRORS = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH"]);

/**
 * Read by shape, not by class: better-sqlite3 builds its errors with the SqliteError class of the
 * context that first loaded the addon, which need not be this one's `Error` (a Jest worker runs
 * many test files in one process; a VM context or a worker thread would do the same).
 */
export function databaseFaultOf(error: unknown): DatabaseFault | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  if (error instanceof DatabaseUnavailableError) return error.fault;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === "string") {
    // SQLite answers a write that finds no space with SQLITE_FULL; a WAL index it cannot grow
    // with SQLITE_IOERR_SHMSIZE.
    if (code === "SQLITE_FULL" || code === "SQLITE_IOERR_SHMSIZE") return "storage_full";
    if (code in POSTGRES_FAULTS) return POSTGRES_FAULTS[code];
    if (code.startsWith("08") && code.length === 5) return "database_unreachable"; // connection_exception
    if (SOCKET_ERRORS.has(code)) return "database_unreachable";
  }
  // pg's own words when the server closes the socket mid-query.
  if (typeof message === "string" && /^Connection terminated/.test(message)) return "database_unreachable";
  return undefined;
}

const FAULT_MESSAGES: Readonly<Record<DatabaseFault, string>> = {
  storage_full: "The database's storage is full; the change was not saved. Retry later",
  database_unreachable: "The database is unreachable; retry later",
};

/** A database fault, with the client-facing code SERVICE_UNAVAILABLE; the driver's error is its cause. */
export class DatabaseUnavailableError extends AppError {
  constructor(
    readonly fault: DatabaseFault,
    options: { readonly cause: unknown },
  ) {
    super(ErrorCode.SERVICE_UNAVAILABLE, FAULT_MESSAGES[fault], { reason: fault });
    this.cause = options.cause;
  }
}
