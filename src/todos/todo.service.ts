/**
 * Todo rules. Every read and write is scoped to the verified user (another
 * user's todo is NOT_FOUND, never "forbidden": existence is not revealed),
 * and every change is written together with its outbox event in one
 * transaction; nothing is published inline.
 */
import type { Kysely } from "kysely";
import { InvalidInputError, NotFoundError } from "../app-error";
import type { AuthenticatedUser } from "../auth/access-token";
import { isUniqueViolation } from "../db/errors";
import type { GroupCommit } from "../db/group-commit";
import type { DatabaseSchema } from "../db/schema";
import { assertValidIdempotencyKey } from "../shared/idempotency-key";
import { pageSizeOf, type Page } from "../shared/page";
import type { EventLog } from "../events/log/event-log";
import { draftTodoEvent, type JsonObject } from "../events/todo-event";
import {
  assertValidDueAt,
  normaliseDescription,
  normaliseTitle,
  type NewTodo,
  type Todo,
  type TodoPatch,
} from "./todo";
import { changedDetails, createdDetails } from "./todo-event-details";
import type { TodoRepository } from "./todo.repository";

/**
 * As long as a title may be. A much longer one finds nothing a person would type, and SQLite
 * refuses long LIKE patterns ("pattern too complex"), which must not surface as a server error.
 */
export const MAX_SEARCH_LENGTH = 200;

export interface TodoServiceDependencies {
  readonly db: Kysely<DatabaseSchema>;
  readonly todos: TodoRepository;
  readonly events: EventLog;
  /** Where the write transactions run (on SQLite those of one turn share a commit). */
  readonly writes: GroupCommit;
  /** Called after a commit that wrote outbox rows, so the relay need not wait for its next poll. */
  readonly onEventsWritten: () => void;
  readonly now?: () => Date;
}

export interface MutationContext {
  readonly traceparent?: string;
}

export interface TodoPageRequest {
  readonly completed?: boolean | null;
  readonly search?: string | null;
  readonly first?: number | null;
  readonly afterId?: number;
}

export class TodoService {
  private readonly now: () => Date;

  constructor(private readonly deps: TodoServiceDependencies) {
    this.now = deps.now ?? (() => new Date());
  }

  async create(
    user: AuthenticatedUser,
    input: NewTodo & { idempotencyKey?: string | null },
    context: MutationContext = {},
  ): Promise<Todo> {
    const title = normaliseTitle(input.title, "input.title");
    const description = normaliseDescription(input.description, "input.description");
    assertValidDueAt(input.dueAt, "input.dueAt");
    const key = input.idempotencyKey ?? null;
    assertValidIdempotencyKey(key, "input.idempotencyKey");
    if (key !== null) {
      const earlier = await this.deps.todos.findByIdempotencyKey(this.deps.db, user.id, key);
      if (earlier !== undefined) return earlier;
    }

    try {
      const todo = await this.deps.writes.run(async (trx) => {
        await this.deps.events.serialiseUserWrites(trx, user.id);
        const created = await this.deps.todos.insert(trx, {
          userId: user.id,
          title,
          description,
          priority: input.priority ?? "MEDIUM",
          dueAt: input.dueAt ?? null,
          idempotencyKey: key,
          now: this.now(),
        });
        await this.recordEvent(trx, user, "task_created", created, createdDetails(created), context);
        return created;
      });
      this.deps.onEventsWritten();
      return todo;
    } catch (error) {
      // Two concurrent retries with one key: the loser returns the winner's todo.
      if (key !== null && isUniqueViolation(error)) {
        const winner = await this.deps.todos.findByIdempotencyKey(this.deps.db, user.id, key);
        if (winner !== undefined) return winner;
      }
      throw error;
    }
  }

  async get(user: AuthenticatedUser, id: number): Promise<Todo> {
    const todo = await this.deps.todos.find(this.deps.db, user.id, id);
    if (todo === undefined) throw new NotFoundError("Todo");
    return todo;
  }

  async list(user: AuthenticatedUser, request: TodoPageRequest): Promise<Page<Todo>> {
    const limit = pageSizeOf(request.first);
    const search = searchText(request.search);
    const rows = await this.deps.todos.list(this.deps.db, user.id, {
      completed: request.completed ?? undefined,
      search,
      afterId: request.afterId,
      limit: limit + 1,
    });
    return { items: rows.slice(0, limit), hasNextPage: rows.length > limit };
  }

  /** For triggerTodoEvent: does this task belong to the caller? */
  /** Inside the caller's transaction when one is given (a trigger checks ownership in its own). */
  async isOwnedBy(userId: string, taskId: number, executor: Kysely<DatabaseSchema> = this.deps.db): Promise<boolean> {
    return this.deps.todos.exists(executor, userId, taskId);
  }

  async update(user: AuthenticatedUser, id: number, patch: TodoPatch, context: MutationContext = {}): Promise<Todo> {
    if (Object.values(patch).every((value) => value === undefined)) {
      throw new InvalidInputError("input", "must change at least one field");
    }
    if (patch.completed === null) throw new InvalidInputError("input.completed", "must not be null");
    if (patch.priority === null) throw new InvalidInputError("input.priority", "must not be null");
    const title = patch.title === undefined ? undefined : normaliseTitle(patch.title, "input.title");
    const description =
      patch.description === undefined ? undefined : normaliseDescription(patch.description, "input.description");
    assertValidDueAt(patch.dueAt, "input.dueAt");

    return this.change(user, id, "task_updated", context, (before) => ({
      title: title ?? before.title,
      description: description === undefined ? before.description : description,
      priority: patch.priority ?? before.priority,
      dueAt: patch.dueAt === undefined ? before.dueAt : patch.dueAt,
      completed: patch.completed ?? before.completed,
    }));
  }

  /** Completing a completed todo changes nothing and emits nothing. */
  async complete(user: AuthenticatedUser, id: number, context: MutationContext = {}): Promise<Todo> {
    return this.change(user, id, "task_completed", context, (before) => ({ ...before, completed: true }));
  }

  async delete(user: AuthenticatedUser, id: number, context: MutationContext = {}): Promise<Todo> {
    const deleted = await this.deps.writes.run(async (trx) => {
      await this.deps.events.serialiseUserWrites(trx, user.id);
      const todo = await this.deps.todos.find(trx, user.id, id);
      if (todo === undefined || !(await this.deps.todos.delete(trx, user.id, id))) throw new NotFoundError("Todo");
      await this.recordEvent(trx, user, "task_deleted", todo, { title: todo.title }, context);
      return todo;
    });
    this.deps.onEventsWritten();
    return deleted;
  }

  private async change(
    user: AuthenticatedUser,
    id: number,
    action: "task_updated" | "task_completed",
    context: MutationContext,
    apply: (before: Todo) => Pick<Todo, "title" | "description" | "priority" | "dueAt" | "completed">,
  ): Promise<Todo> {
    let wroteEvent = false;
    const todo = await this.deps.writes.run(async (trx) => {
      // The user lock also makes read-modify-write safe: no concurrent change of this user's todos.
      await this.deps.events.serialiseUserWrites(trx, user.id);
      const before = await this.deps.todos.find(trx, user.id, id);
      if (before === undefined) throw new NotFoundError("Todo");
      const wanted = apply(before);
      const details = changedDetails(before, { ...before, ...wanted });
      if (Object.keys(details).length === 0) return before;
      const after = await this.deps.todos.update(trx, user.id, id, { ...wanted, now: this.now() });
      if (after === undefined) throw new NotFoundError("Todo");
      await this.recordEvent(trx, user, action, after, details, context);
      wroteEvent = true;
      return after;
    });
    if (wroteEvent) this.deps.onEventsWritten();
    return todo;
  }

  private async recordEvent(
    trx: Kysely<DatabaseSchema>,
    user: AuthenticatedUser,
    action: string,
    todo: Todo,
    details: JsonObject,
    context: MutationContext,
  ): Promise<void> {
    const draft = draftTodoEvent({ action, taskId: todo.id, userId: user.id, details, occurredAt: this.now() });
    await this.deps.events.append(
      trx,
      draft,
      context.traceparent === undefined ? {} : { traceparent: context.traceparent },
    );
  }
}

function searchText(search: string | null | undefined): string | undefined {
  const trimmed = search?.trim();
  if (trimmed === undefined || trimmed === "") return undefined;
  if (trimmed.length > MAX_SEARCH_LENGTH) {
    throw new InvalidInputError("filter.search", `must be at most ${MAX_SEARCH_LENGTH} characters`);
  }
  return trimmed;
}
