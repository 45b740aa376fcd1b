/**
 * Wraps a Kysely dialect so that every statement, transaction and connection of either engine
 * passes one point where database faults are recognised: a full disk or an unreachable server
 * becomes a DatabaseUnavailableError (SERVICE_UNAVAILABLE for clients, never an internal error),
 * and the storage status /readyz reports follows what writes meet. Other errors pass unchanged.
 */
import type {
  CompiledQuery,
  DatabaseConnection,
  Dialect,
  Driver,
  QueryCompiler,
  QueryResult,
  TransactionSettings,
} from "kysely";
import { DatabaseUnavailableError, databaseFaultOf } from "./errors";
import type { StorageStatus } from "./storage-status";

/**
 * Only a statement that adds rows shows the space is back: on PostgreSQL an UPDATE (the relay
 * marking events published) can still fit in pages it has while every INSERT is refused.
 */
const ADDS_ROWS = new Set(["InsertQueryNode", "MergeQueryNode"]);

class FaultAwareConnection implements DatabaseConnection {
  /** Inside a transaction a write proves nothing about space until the commit. */
  inTransaction = false;
  /** The open transaction added rows: its commit shows the space is back. */
  addedRows = false;
  /** SQLite rolls a transaction back by itself when a write finds the disk full. */
  faulted = false;

  constructor(
    readonly inner: DatabaseConnection,
    private readonly translate: (error: unknown) => unknown,
    private readonly storage: StorageStatus,
  ) {}

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    try {
      const result = await this.inner.executeQuery<R>(compiledQuery);
      if (ADDS_ROWS.has(compiledQuery.query.kind)) {
        if (this.inTransaction) this.addedRows = true;
        else this.storage.recordRowsAdded();
      }
      return result;
    } catch (error) {
      if (this.inTransaction && databaseFaultOf(error) !== undefined) this.faulted = true;
      throw this.translate(error);
    }
  }

  streamQuery<R>(compiledQuery: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(compiledQuery, chunkSize);
  }
}

class FaultAwareDriver implements Driver {
  constructor(
    private readonly inner: Driver,
    private readonly storage: StorageStatus,
  ) {}

  private readonly translate = (error: unknown): unknown => {
    const fault = databaseFaultOf(error);
    if (fault === undefined || error instanceof DatabaseUnavailableError) return error;
    if (fault === "storage_full") this.storage.recordStorageFull();
    return new DatabaseUnavailableError(fault, { cause: error });
  };

  private async guarded<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw this.translate(error);
    }
  }

  init(): Promise<void> {
    return this.guarded(() => this.inner.init());
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const inner = await this.guarded(() => this.inner.acquireConnection());
    return new FaultAwareConnection(inner, this.translate, this.storage);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const wrapped = connection as FaultAwareConnection;
    await this.guarded(() => this.inner.beginTransaction(wrapped.inner, settings));
    wrapped.inTransaction = true;
    wrapped.faulted = false;
    wrapped.addedRows = false;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const wrapped = connection as FaultAwareConnection;
    try {
      await this.inner.commitTransaction(wrapped.inner);
    } catch (error) {
      if (databaseFaultOf(error) !== undefined) wrapped.faulted = true;
      throw this.translate(error);
    }
    wrapped.inTransaction = false;
    if (wrapped.addedRows) this.storage.recordRowsAdded();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const wrapped = connection as FaultAwareConnection;
    wrapped.inTransaction = false;
    try {
      await this.inner.rollbackTransaction(wrapped.inner);
    } catch (error) {
      // After a fault the transaction is already gone (SQLite rolled it back, or the server
      // dropped the connection): the rollback's own complaint would hide the fault.
      if (wrapped.faulted) return;
      throw this.translate(error);
    }
  }

  async savepoint(
    connection: DatabaseConnection,
    name: string,
    compileQuery: QueryCompiler["compileQuery"],
  ): Promise<void> {
    const inner = (connection as FaultAwareConnection).inner;
    await this.guarded(async () => this.inner.savepoint?.(inner, name, compileQuery));
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compileQuery: QueryCompiler["compileQuery"],
  ): Promise<void> {
    const inner = (connection as FaultAwareConnection).inner;
    await this.guarded(async () => this.inner.rollbackToSavepoint?.(inner, name, compileQuery));
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compileQuery: QueryCompiler["compileQuery"],
  ): Promise<void> {
    const inner = (connection as FaultAwareConnection).inner;
    await this.guarded(async () => this.inner.releaseSavepoint?.(inner, name, compileQuery));
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection((connection as FaultAwareConnection).inner);
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}

export function faultAwareDialect(inner: Dialect, storage: StorageStatus): Dialect {
  return {
    createDriver: () => new FaultAwareDriver(inner.createDriver(), storage),
    createQueryCompiler: () => inner.createQueryCompiler(),
    createAdapter: () => inner.createAdapter(),
    createIntrospector: (db) => inner.createIntrospector(db),
  };
}
