import { DatabaseUnavailableError, databaseFaultOf, isUniqueViolation } from "../../../src/db/errors";
import { StorageStatus } from "../../../src/db/storage-status";

const driverError = (code: string, message = "driver says no"): Error => Object.assign(new Error(message), { code });

describe("databaseFaultOf", () => {
  it.each([
    ["SQLite's disk full", driverError("SQLITE_FULL", "database or disk is full"), "storage_full"],
    ["SQLite's WAL index that cannot grow", driverError("SQLITE_IOERR_SHMSIZE"), "storage_full"],
    ["PostgreSQL's disk_full", driverError("53100", 'could not extend file "base/1/2"'), "storage_full"],
    ["PostgreSQL shutting down", driverError("57P01"), "database_unreachable"],
    ["PostgreSQL in recovery", driverError("57P03"), "database_unreachable"],
    ["a connection exception", driverError("08006"), "database_unreachable"],
    ["a refused connection", driverError("ECONNREFUSED"), "database_unreachable"],
    ["pg's closed socket", new Error("Connection terminated unexpectedly"), "database_unreachable"],
    // What better-sqlite3 throws when another context loaded the addon first: not this context's Error.
    [
      "a driver error from another context",
      { code: "SQLITE_FULL", message: "database or disk is full" },
      "storage_full",
    ],
  ])("recognises %s", (_what, error, fault) => {
    expect(databaseFaultOf(error)).toBe(fault);
  });

  it.each([
    ["a unique violation", driverError("23505")],
    ["a syntax error", driverError("42601")],
    ["SQLite's constraint error", driverError("SQLITE_CONSTRAINT_UNIQUE")],
    ["a plain error", new Error("boom")],
    ["a non-error", "SQLITE_FULL"],
  ])("leaves %s alone", (_what, error) => {
    expect(databaseFaultOf(error)).toBeUndefined();
  });
});

describe("DatabaseUnavailableError", () => {
  it("carries SERVICE_UNAVAILABLE, the reason and the driver's error as its cause", () => {
    const cause = driverError("SQLITE_FULL");
    const error = new DatabaseUnavailableError("storage_full", { cause });

    expect(error.code).toBe("SERVICE_UNAVAILABLE");
    expect(error.extensions).toEqual({ reason: "storage_full" });
    expect(error.cause).toBe(cause);
    expect(databaseFaultOf(error)).toBe("storage_full");
    expect(isUniqueViolation(error)).toBe(false);
  });
});

describe("StorageStatus", () => {
  it("is full from the first refused write until rows are added again, counting the refusals", () => {
    let now = new Date("2026-01-01T00:00:00Z");
    const status = new StorageStatus(() => now);

    status.recordStorageFull();
    now = new Date("2026-01-01T00:00:05Z");
    status.recordStorageFull();
    const full = status.read();
    status.recordRowsAdded();

    expect(full).toEqual({ state: "full", since: "2026-01-01T00:00:00.000Z", refusedWrites: 2 });
    expect(status.read()).toEqual({ state: "ok" });
  });
});
