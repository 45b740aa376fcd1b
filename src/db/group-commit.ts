/**
 * Runs the write transactions of one event-loop turn as one transaction (a group commit), while
 * each still succeeds or fails alone.
 *
 * On SQLite every write is serial on one connection anyway, and what surrounds a short
 * transaction (BEGIN, COMMIT, the transaction's set-up) costs more than its rows: the commit was
 * the most expensive statement of both createTodo and triggerTodoEvent. On PostgreSQL a batch
 * would run its statements one after another on one connection where separate transactions run
 * in parallel on the pool, so there a batch holds one (`maxBatch` 1: each runs at once in a
 * transaction of its own).
 *
 * Two kinds of work share a batch:
 * - `run(work)`: the work runs in a savepoint, so its failure undoes its own writes only;
 * - `runChecked({ check, write })`: for work whose refusals all come before it writes. `check`
 *   reads and may refuse (throw a client error), which answers that work alone; `write` writes,
 *   and its failure fails the batch. It needs no savepoint, whose two statements cost about as
 *   much as a trigger's row.
 *
 * A work's promise settles only after the commit: a change is never answered before it is
 * durable. When the commit fails, a write of checked work fails, or a savepoint cannot be rolled
 * back (SQLite rolls the whole transaction back by itself on some faults, a full disk among
 * them), every work of the batch fails with that error and none of them was committed.
 */
import { sql, type Kysely } from "kysely";
import { AppError } from "../app-error";
import { TurnBatcher } from "../shared/turn-batcher";
import { DatabaseUnavailableError } from "./errors";
import type { DatabaseSchema } from "./schema";

type Transaction = Kysely<DatabaseSchema>;

export type TransactionWork<T> = (trx: Transaction) => Promise<T>;

export interface CheckedWork<C, T> {
  /** Reads only. A client error thrown here refuses this work alone. */
  check(trx: Transaction): Promise<C>;
  /** Writes what `check` allowed; a failure here fails the whole batch. */
  write(trx: Transaction, checked: C): Promise<T>;
}

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: unknown };

interface Unit {
  /**
   * Runs the work inside the batch's transaction (`shared`: with other works in it); throws only
   * what must fail the batch.
   */
  execute(trx: Transaction, shared: boolean): Promise<Outcome>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export class GroupCommit {
  private readonly turns: TurnBatcher<Unit>;

  constructor(
    private readonly db: Kysely<DatabaseSchema>,
    /** Works per transaction; 1 runs each at once in a transaction of its own. */
    private readonly maxBatch: number,
  ) {
    this.turns = new TurnBatcher(maxBatch, (batch) => void this.commit(batch));
  }

  /** Runs `work` in a savepoint of the turn's transaction; resolves after the commit. */
  run<T>(work: TransactionWork<T>): Promise<T> {
    if (this.maxBatch <= 1) return this.db.transaction().execute(work);
    return this.enqueue<T>(async (trx, shared) => {
      // Alone in its transaction, its failure may as well roll the transaction back.
      if (!shared) return { ok: true, value: await work(trx) };
      return inSavepoint(trx, work);
    });
  }

  /** Runs checked work in the turn's transaction without a savepoint; resolves after the commit. */
  runChecked<C, T>(work: CheckedWork<C, T>): Promise<T> {
    const execute = async (trx: Transaction): Promise<Outcome> => {
      let checked: C;
      try {
        checked = await work.check(trx);
      } catch (error) {
        if (isRefusal(error)) return { ok: false, error };
        throw error;
      }
      return { ok: true, value: await work.write(trx, checked) };
    };
    if (this.maxBatch <= 1) return this.alone<T>(execute);
    return this.enqueue<T>(execute);
  }

  private alone<T>(execute: (trx: Transaction) => Promise<Outcome>): Promise<T> {
    return this.db
      .transaction()
      .execute(execute)
      .then((outcome) => {
        if (outcome.ok) return outcome.value as T;
        throw outcome.error;
      });
  }

  private enqueue<T>(execute: Unit["execute"]): Promise<T> {
    return new Promise<T>((resolve, reject) => this.turns.add({ execute, resolve, reject }));
  }

  private async commit(batch: readonly Unit[]): Promise<void> {
    const outcomes: Outcome[] = [];
    try {
      await this.db.transaction().execute(async (trx) => {
        for (const unit of batch) outcomes.push(await unit.execute(trx, batch.length > 1));
      });
    } catch (error) {
      for (const unit of batch) unit.reject(error);
      return;
    }
    batch.forEach((unit, index) => {
      const outcome = outcomes[index];
      if (outcome.ok) unit.resolve(outcome.value);
      else unit.reject(outcome.error);
    });
  }
}

/** A client error: the work refused itself. A database fault is not one: it fails the batch. */
function isRefusal(error: unknown): boolean {
  return error instanceof AppError && !(error instanceof DatabaseUnavailableError);
}

/** The work's failure undoes its own writes only; a savepoint that cannot be undone fails the batch. */
async function inSavepoint(trx: Transaction, work: TransactionWork<unknown>): Promise<Outcome> {
  await sql`savepoint group_work`.execute(trx);
  try {
    const value = await work(trx);
    await sql`release savepoint group_work`.execute(trx);
    return { ok: true, value };
  } catch (error) {
    try {
      await sql`rollback to savepoint group_work`.execute(trx);
      await sql`release savepoint group_work`.execute(trx);
    } catch {
      // The fault took the transaction with it: the batch fails with the fault, not with this.
      throw error;
    }
    return { ok: false, error };
  }
}
