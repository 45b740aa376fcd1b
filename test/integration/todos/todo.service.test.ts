/** TodoService against real SQLite and PostgreSQL: rules, isolation and the outbox written with each change. */
import { createServices } from "../../../src/services";
import type { Services } from "../../../src/graphql/context";
import { MAX_SEARCH_LENGTH } from "../../../src/todos/todo.service";
import { DIALECTS, openTestDatabase, type TestDatabase } from "../../support/databases";
import { InMemoryEventPublisher } from "../../support/in-memory-event-publisher";
import { testConfig } from "../../support/config";
import { silentLogger } from "../../support/logger";

const alice = { id: "alice" };
const bob = { id: "bob" };

describe.each(DIALECTS)("TodoService on %s", (dialect) => {
  let database: TestDatabase;
  let services: Services;

  beforeEach(async () => {
    database = await openTestDatabase(dialect);
    ({ services } = createServices({
      database,
      publisher: new InMemoryEventPublisher(),
      logger: silentLogger,
      config: testConfig(),
    }));
  });
  afterEach(() => database.dispose());

  const outboxRows = () => database.db.selectFrom("outbox").selectAll().orderBy("id").execute();
  const todoCount = async () => (await database.db.selectFrom("todos").select("id").execute()).length;
  /** The payload as the log publishes it: the stored JSON with the row's sequence. */
  const payloadOf = (row: { payload: string; sequence?: number }) =>
    ({ ...JSON.parse(row.payload), ...(row.sequence === undefined ? {} : { sequence: row.sequence }) }) as Record<
      string,
      unknown
    >;

  describe("createTodo", () => {
    it("stores the todo with defaults and writes one task_created outbox row", async () => {
      const dueAt = new Date("2026-12-24T18:00:00.000Z");
      const todo = await services.todos.create(alice, { title: "  Buy milk  ", description: "2 litres", dueAt });

      expect(todo).toMatchObject({ userId: "alice", title: "Buy milk", completed: false, priority: "MEDIUM", dueAt });
      const [row] = await outboxRows();
      expect(row).toMatchObject({
        user_id: "alice",
        action: "task_created",
        task_id: todo.id,
        status: "PENDING",
        attempts: 0,
      });
      expect(payloadOf(row)).toEqual({
        event_id: row.event_id,
        sequence: 1,
        action: "task_created",
        task_id: todo.id,
        user_id: "alice",
        details: {
          title: "Buy milk",
          description: "2 litres",
          priority: "MEDIUM",
          due_at: "2026-12-24T18:00:00.000Z",
          completed: false,
        },
        occurred_at: expect.any(String),
        schema_version: 1,
      });
    });

    it.each([
      ["an empty title", { title: "   " }, "input.title"],
      ["a 201-character title", { title: "x".repeat(201) }, "input.title"],
      ["a 2001-character description", { title: "ok", description: "x".repeat(2001) }, "input.description"],
      ["a bad idempotency key", { title: "ok", idempotencyKey: "no spaces please" }, "input.idempotencyKey"],
    ])("writes neither a todo nor an outbox row for %s", async (_case, input, field) => {
      await expect(services.todos.create(alice, input)).rejects.toMatchObject({ code: "BAD_USER_INPUT", field });

      expect(await todoCount()).toBe(0);
      expect(await outboxRows()).toHaveLength(0);
    });

    it("returns the same todo for a retry with the same idempotency key, emitting once", async () => {
      const first = await services.todos.create(alice, { title: "once", idempotencyKey: "k-1" });
      const retry = await services.todos.create(alice, { title: "once", idempotencyKey: "k-1" });

      expect(retry.id).toBe(first.id);
      expect(await outboxRows()).toHaveLength(1);
    });

    it("creates one todo when retries with one key race each other", async () => {
      const results = await Promise.all(
        Array.from({ length: 5 }, () => services.todos.create(alice, { title: "race", idempotencyKey: "k-race" })),
      );

      expect(new Set(results.map((todo) => todo.id)).size).toBe(1);
      expect(await todoCount()).toBe(1);
      expect(await outboxRows()).toHaveLength(1);
    });

    it("keeps idempotency keys per user", async () => {
      await services.todos.create(alice, { title: "a", idempotencyKey: "shared" });
      await services.todos.create(bob, { title: "b", idempotencyKey: "shared" });

      expect(await todoCount()).toBe(2);
    });
  });

  describe("updateTodo, completeTodo, deleteTodo", () => {
    it("emits task_updated with only the fields that changed", async () => {
      const todo = await services.todos.create(alice, { title: "draft", priority: "LOW" });

      const updated = await services.todos.update(alice, todo.id, {
        title: "final",
        priority: "LOW",
        description: null,
      });

      expect(updated).toMatchObject({ title: "final", priority: "LOW" });
      expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(todo.updatedAt.getTime());
      const rows = await outboxRows();
      expect(rows.map((row) => row.action)).toEqual(["task_created", "task_updated"]);
      expect(payloadOf(rows[1]).details).toEqual({ title: "final" });
    });

    it("emits nothing for an update that changes nothing", async () => {
      const todo = await services.todos.create(alice, { title: "same" });

      await services.todos.update(alice, todo.id, { title: "same" });

      expect(await outboxRows()).toHaveLength(1);
    });

    it("refuses an empty update", async () => {
      const todo = await services.todos.create(alice, { title: "x" });
      await expect(services.todos.update(alice, todo.id, {})).rejects.toMatchObject({
        code: "BAD_USER_INPUT",
        field: "input",
      });
    });

    it("emits task_completed once, however often completeTodo is called", async () => {
      const todo = await services.todos.create(alice, { title: "finish" });

      const completed = await services.todos.complete(alice, todo.id);
      await services.todos.complete(alice, todo.id);

      expect(completed.completed).toBe(true);
      const rows = await outboxRows();
      expect(rows.map((row) => row.action)).toEqual(["task_created", "task_completed"]);
      expect(payloadOf(rows[1]).details).toEqual({ completed: true });
    });

    it("deletes the todo, emits task_deleted and keeps the history", async () => {
      const todo = await services.todos.create(alice, { title: "gone" });

      await services.todos.delete(alice, todo.id);

      await expect(services.todos.get(alice, todo.id)).rejects.toMatchObject({ code: "NOT_FOUND" });
      const history = await services.eventHistory.page(alice, 10, undefined);
      expect(history.items.map((record) => record.event.action)).toEqual(["task_deleted", "task_created"]);
    });
  });

  describe("user isolation", () => {
    let alicesTodo: number;
    beforeEach(async () => {
      alicesTodo = (await services.todos.create(alice, { title: "alice's secret" })).id;
    });

    it.each([
      ["read", () => services.todos.get(bob, alicesTodo)],
      ["update", () => services.todos.update(bob, alicesTodo, { title: "pwned" })],
      ["complete", () => services.todos.complete(bob, alicesTodo)],
      ["delete", () => services.todos.delete(bob, alicesTodo)],
      [
        "trigger events for",
        () => services.triggers.trigger(bob, { taskId: alicesTodo, action: "task_created" }, { log: silentLogger }),
      ],
    ])("another user cannot %s the todo: NOT_FOUND, and nothing changes", async (_verb, attempt) => {
      await expect(attempt()).rejects.toMatchObject({ code: "NOT_FOUND" });

      expect(await services.todos.get(alice, alicesTodo)).toMatchObject({ title: "alice's secret", completed: false });
      expect(await outboxRows()).toHaveLength(1);
    });

    it("lists and history never include another user's rows", async () => {
      await services.todos.create(bob, { title: "bob's" });

      const bobsTodos = await services.todos.list(bob, {});
      const bobsEvents = await services.eventHistory.page(bob, 100, undefined);

      expect(bobsTodos.items.map((todo) => todo.userId)).toEqual(["bob"]);
      expect(bobsEvents.items.map((record) => record.event.user_id)).toEqual(["bob"]);
    });
  });

  describe("listing", () => {
    beforeEach(async () => {
      for (const title of ["alpha", "Beta 100%", "gamma", "delta_x", "epsilon"])
        await services.todos.create(alice, { title });
      const todos = await services.todos.list(alice, { first: 100 });
      await services.todos.complete(alice, todos.items.find((todo) => todo.title === "gamma")!.id);
    });

    it("pages newest first with a stable cursor", async () => {
      const first = await services.todos.list(alice, { first: 2 });
      const second = await services.todos.list(alice, { first: 2, afterId: first.items[1].id });
      const third = await services.todos.list(alice, { first: 2, afterId: second.items[1].id });

      expect([...first.items, ...second.items, ...third.items].map((todo) => todo.title)).toEqual([
        "epsilon",
        "delta_x",
        "gamma",
        "Beta 100%",
        "alpha",
      ]);
      expect([first.hasNextPage, second.hasNextPage, third.hasNextPage]).toEqual([true, true, false]);
    });

    it("filters by completion", async () => {
      expect((await services.todos.list(alice, { completed: true })).items.map((todo) => todo.title)).toEqual([
        "gamma",
      ]);
      expect((await services.todos.list(alice, { completed: false })).items).toHaveLength(4);
    });

    it("searches case-insensitively and treats LIKE wildcards literally", async () => {
      expect((await services.todos.list(alice, { search: "BETA" })).items.map((todo) => todo.title)).toEqual([
        "Beta 100%",
      ]);
      expect((await services.todos.list(alice, { search: "0%" })).items.map((todo) => todo.title)).toEqual([
        "Beta 100%",
      ]);
      expect((await services.todos.list(alice, { search: "_" })).items.map((todo) => todo.title)).toEqual(["delta_x"]);
    });

    it(`finds a todo by a search of ${MAX_SEARCH_LENGTH} characters`, async () => {
      const title = "t".repeat(MAX_SEARCH_LENGTH);
      await services.todos.create(alice, { title });

      expect((await services.todos.list(alice, { search: title })).items.map((todo) => todo.title)).toEqual([title]);
    });

    it.each([
      ["one character too long", MAX_SEARCH_LENGTH + 1],
      ["30 000 characters long", 30_000],
    ])("refuses a search %s as bad input naming filter.search", async (_case, length) => {
      await expect(services.todos.list(alice, { search: "%".repeat(length) })).rejects.toMatchObject({
        code: "BAD_USER_INPUT",
        field: "filter.search",
      });
    });

    it("refuses a page size outside 1..100", async () => {
      await expect(services.todos.list(alice, { first: 101 })).rejects.toMatchObject({
        code: "BAD_USER_INPUT",
        field: "first",
      });
    });
  });
});
