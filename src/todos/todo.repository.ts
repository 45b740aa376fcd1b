/** Todo rows, always scoped to one user: there is no query that reads across users. */
import { sql, type Insertable, type Kysely, type Selectable } from "kysely";
import { PreparedQuery } from "../db/prepared-query";
import type { DatabaseSchema, TodosTable } from "../db/schema";
import type { Priority, Todo } from "./todo";

export type Executor = Kysely<DatabaseSchema>;

export interface TodoListQuery {
  readonly completed?: boolean;
  readonly search?: string;
  /** The cursor: only todos after it in the newest-first order, i.e. with smaller ids. */
  readonly afterId?: number;
  readonly limit: number;
}

export interface TodoInsert {
  readonly userId: string;
  readonly title: string;
  readonly description: string | null;
  readonly priority: Priority;
  readonly dueAt: Date | null;
  readonly idempotencyKey: string | null;
  readonly now: Date;
}

export interface TodoUpdate {
  readonly title: string;
  readonly description: string | null;
  readonly priority: Priority;
  readonly dueAt: Date | null;
  readonly completed: boolean;
  readonly now: Date;
}

type NewTodoRow = Omit<Insertable<TodosTable>, "id" | "completed">;

/** On every createTodo and every trigger: built and compiled once (see PreparedQuery). */
const insertTodo = new PreparedQuery((db: Executor, row: NewTodoRow) =>
  db
    .insertInto("todos")
    .values({
      user_id: row.user_id,
      title: row.title,
      description: row.description,
      completed: 0,
      priority: row.priority,
      due_at: row.due_at,
      created_at: row.created_at,
      updated_at: row.updated_at,
      idempotency_key: row.idempotency_key,
    })
    .returningAll(),
);
const todoExists = new PreparedQuery((db: Executor, key: { userId: string; id: number }) =>
  db.selectFrom("todos").select("id").where("user_id", "=", key.userId).where("id", "=", key.id),
);

export class TodoRepository {
  async insert(db: Executor, todo: TodoInsert): Promise<Todo> {
    const now = todo.now.toISOString();
    const result = await insertTodo.execute(db, {
      user_id: todo.userId,
      title: todo.title,
      description: todo.description,
      priority: todo.priority,
      due_at: todo.dueAt?.toISOString() ?? null,
      created_at: now,
      updated_at: now,
      idempotency_key: todo.idempotencyKey,
    });
    const row = result.rows[0];
    if (row === undefined) throw new Error("insert into todos returned no row");
    return toTodo(row);
  }

  async find(db: Executor, userId: string, id: number): Promise<Todo | undefined> {
    const row = await db
      .selectFrom("todos")
      .selectAll()
      .where("user_id", "=", userId)
      .where("id", "=", id)
      .executeTakeFirst();
    return row === undefined ? undefined : toTodo(row);
  }

  async findByIdempotencyKey(db: Executor, userId: string, key: string): Promise<Todo | undefined> {
    const row = await db
      .selectFrom("todos")
      .selectAll()
      .where("user_id", "=", userId)
      .where("idempotency_key", "=", key)
      .executeTakeFirst();
    return row === undefined ? undefined : toTodo(row);
  }

  async exists(db: Executor, userId: string, id: number): Promise<boolean> {
    const result = await todoExists.execute(db, { userId, id });
    return result.rows.length > 0;
  }

  async update(db: Executor, userId: string, id: number, changes: TodoUpdate): Promise<Todo | undefined> {
    const row = await db
      .updateTable("todos")
      .set({
        title: changes.title,
        description: changes.description,
        priority: changes.priority,
        due_at: changes.dueAt?.toISOString() ?? null,
        completed: changes.completed ? 1 : 0,
        updated_at: changes.now.toISOString(),
      })
      .where("user_id", "=", userId)
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirst();
    return row === undefined ? undefined : toTodo(row);
  }

  async delete(db: Executor, userId: string, id: number): Promise<boolean> {
    const result = await db.deleteFrom("todos").where("user_id", "=", userId).where("id", "=", id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /** Newest first by id: ids never change, so the order is stable while rows are added. */
  async list(db: Executor, userId: string, query: TodoListQuery): Promise<Todo[]> {
    let select = db.selectFrom("todos").selectAll().where("user_id", "=", userId);
    if (query.completed !== undefined) select = select.where("completed", "=", query.completed ? 1 : 0);
    if (query.search !== undefined && query.search !== "") {
      // Case-insensitive substring match in title or description; LIKE wildcards in the input are literal.
      const pattern = `%${query.search.toLowerCase().replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
      select = select.where(
        sql<boolean>`(lower(title) like ${pattern} escape '\\' or lower(coalesce(description, '')) like ${pattern} escape '\\')`,
      );
    }
    if (query.afterId !== undefined) select = select.where("id", "<", query.afterId);
    const rows = await select.orderBy("id", "desc").limit(query.limit).execute();
    return rows.map(toTodo);
  }
}

function toTodo(row: Selectable<TodosTable>): Todo {
  return {
    id: Number(row.id),
    userId: row.user_id,
    title: row.title,
    description: row.description,
    completed: Boolean(row.completed),
    priority: row.priority as Priority,
    dueAt: row.due_at === null ? null : new Date(row.due_at),
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}
