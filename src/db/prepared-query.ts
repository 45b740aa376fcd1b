/**
 * A Kysely query built and compiled once per database, then run with each call's values.
 *
 * Kysely builds a query from immutable nodes and compiles it with a visitor on every call. For
 * the short statements on a mutation's path that work cost more CPU than running them: about
 * 9 µs of building and compiling against 7 µs for Kysely to run the compiled query on SQLite,
 * per query, measured in a loop. The query is written with the builder as anywhere else; its
 * values are stand-ins, and each call puts its own values in their places.
 */
import {
  createQueryId,
  type CompiledQuery,
  type Compilable,
  type DialectAdapter,
  type Kysely,
  type QueryResult,
} from "kysely";
import type { DatabaseSchema } from "./schema";

type Executor = Kysely<DatabaseSchema>;

/** Marks a stand-in value: no value a caller passes starts with a NUL character. */
const STAND_IN = "\u0000value:";

type Slot = { readonly name: string } | { readonly constant: unknown };

interface Compiled {
  readonly sql: string;
  readonly query: CompiledQuery["query"];
  readonly slots: readonly Slot[];
}

export class PreparedQuery<V extends Record<string, unknown>, R> {
  /** Per database (its adapter): the SQL differs between SQLite and PostgreSQL. */
  private readonly compiled = new WeakMap<DialectAdapter, Compiled>();

  /** `build` gets stand-ins for the values; every one of them must reach the query as a parameter. */
  constructor(private readonly build: (db: Executor, values: V) => Compilable<R>) {}

  async execute(db: Executor, values: V): Promise<QueryResult<R>> {
    const compiled = this.compiledFor(db);
    const parameters = compiled.slots.map((slot) => ("name" in slot ? values[slot.name] : slot.constant));
    return db.executeQuery<R>({ sql: compiled.sql, query: compiled.query, parameters, queryId: createQueryId() });
  }

  private compiledFor(db: Executor): Compiled {
    const adapter = db.getExecutor().adapter;
    const known = this.compiled.get(adapter);
    if (known !== undefined) return known;
    const used = new Set<string>();
    const standIns = new Proxy({} as V, {
      get: (_target, name) => {
        if (typeof name !== "string") return undefined;
        used.add(name);
        return `${STAND_IN}${name}`;
      },
    });
    const query = this.build(db, standIns).compile();
    const slots = query.parameters.map((parameter): Slot => {
      if (typeof parameter === "string" && parameter.startsWith(STAND_IN))
        return { name: parameter.slice(STAND_IN.length) };
      return { constant: parameter };
    });
    const placed = new Set(slots.flatMap((slot) => ("name" in slot ? [slot.name] : [])));
    const lost = [...used].filter((name) => !placed.has(name));
    if (lost.length > 0 || query.sql.includes(STAND_IN)) {
      const shown = query.sql.replaceAll(STAND_IN, ":");
      throw new Error(`prepared query: values ${lost.join(", ")} did not become parameters of ${shown}`);
    }
    const compiled = { sql: query.sql, query: query.query, slots };
    this.compiled.set(adapter, compiled);
    return compiled;
  }
}
