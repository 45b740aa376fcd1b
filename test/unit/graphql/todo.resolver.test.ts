import {
  CompleteTodoDocument,
  CreateTodoDocument,
  DeleteTodoDocument,
  GetTodoDocument,
  ListTodosDocument,
  TodoEventHistoryDocument,
  UpdateTodoDocument,
} from "../../generated/graphql";
import { createGraphQLHarness, onlyErrorCode, type GraphQLHarness } from "../../support/graphql-harness";

describe("todo resolvers", () => {
  let harness: GraphQLHarness;
  beforeEach(async () => {
    harness = await createGraphQLHarness();
  });
  afterEach(() => harness.close());

  const create = (userId: string | null, input: Record<string, unknown>) =>
    harness.execute(CreateTodoDocument, { input: input as never }, userId);

  it("creates a todo for the caller with defaults", async () => {
    const result = await create("alice", { title: "Write tests", dueAt: "2026-12-24T18:00:00Z" });

    expect(result.errors).toBeUndefined();
    expect(result.data?.createTodo).toEqual({
      id: expect.any(Number),
      title: "Write tests",
      description: null,
      completed: false,
      priority: "MEDIUM",
      dueAt: "2026-12-24T18:00:00.000Z",
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
  });

  it("refuses a title that is too long with BAD_USER_INPUT naming input.title", async () => {
    const result = await create("alice", { title: "x".repeat(201) });

    expect(onlyErrorCode(result)).toBe("BAD_USER_INPUT");
    expect(result.errors?.[0].extensions?.field).toBe("input.title");
  });

  it("refuses a malformed dueAt and an unknown priority before reaching the service", async () => {
    expect(onlyErrorCode(await create("alice", { title: "x", dueAt: "tomorrow" }))).toBe("BAD_USER_INPUT");
    expect(onlyErrorCode(await create("alice", { title: "x", priority: "URGENT" }))).toBe("BAD_USER_INPUT");
  });

  it("answers NOT_FOUND for another user's todo on every operation", async () => {
    const id = (await create("alice", { title: "private" })).data!.createTodo.id;

    expect(onlyErrorCode(await harness.execute(GetTodoDocument, { id }, "bob"))).toBe("NOT_FOUND");
    expect(onlyErrorCode(await harness.execute(UpdateTodoDocument, { id, input: { title: "x" } }, "bob"))).toBe(
      "NOT_FOUND",
    );
    expect(onlyErrorCode(await harness.execute(CompleteTodoDocument, { id }, "bob"))).toBe("NOT_FOUND");
    expect(onlyErrorCode(await harness.execute(DeleteTodoDocument, { id }, "bob"))).toBe("NOT_FOUND");
    expect((await harness.execute(GetTodoDocument, { id }, "alice")).data?.todo?.title).toBe("private");
  });

  it("requires authentication for every todo field", async () => {
    expect(onlyErrorCode(await harness.execute(ListTodosDocument, {}, null))).toBe("UNAUTHENTICATED");
    expect(onlyErrorCode(await create(null, { title: "x" }))).toBe("UNAUTHENTICATED");
  });

  it("pages with opaque cursors and refuses a forged one", async () => {
    for (const title of ["one", "two", "three"]) await create("alice", { title });

    const first = await harness.execute(ListTodosDocument, { first: 2 }, "alice");
    const rest = await harness.execute(
      ListTodosDocument,
      { first: 2, after: first.data!.todos.pageInfo.endCursor },
      "alice",
    );
    const forged = await harness.execute(
      ListTodosDocument,
      { after: Buffer.from("event:1").toString("base64url") },
      "alice",
    );

    expect(first.data!.todos.edges.map((edge) => edge.node.title)).toEqual(["three", "two"]);
    expect(first.data!.todos.pageInfo.hasNextPage).toBe(true);
    expect(rest.data!.todos.edges.map((edge) => edge.node.title)).toEqual(["one"]);
    expect(rest.data!.todos.pageInfo.hasNextPage).toBe(false);
    expect(onlyErrorCode(forged)).toBe("BAD_USER_INPUT");
    expect(forged.errors?.[0].extensions?.field).toBe("after");
  });

  it("pages todoEvents by the caller's sequence, and refuses a cursor of the earlier kind (an outbox id)", async () => {
    // Bob's events between Alice's: her events' outbox ids are not her sequences.
    for (const title of ["one", "two", "three"]) {
      await create("bob", { title: `bob's ${title}` });
      await create("alice", { title });
    }
    const history = (after?: string | null) =>
      harness.execute(TodoEventHistoryDocument, { first: 2, ...(after ? { after } : {}) }, "alice");

    const first = await history();
    const rest = await history(first.data!.todoEvents.pageInfo.endCursor);
    const earlierKind = await history(Buffer.from("event:4").toString("base64url"));

    const titles = (page: typeof first) => page.data!.todoEvents.edges.map((edge) => edge.node.details.title);
    expect(titles(first)).toEqual(["three", "two"]);
    expect(first.data!.todoEvents.pageInfo.hasNextPage).toBe(true);
    expect(titles(rest)).toEqual(["one"]);
    expect(rest.data!.todoEvents.pageInfo.hasNextPage).toBe(false);
    expect(onlyErrorCode(earlierKind)).toBe("BAD_USER_INPUT");
    expect(earlierKind.errors?.[0].extensions?.field).toBe("after");
  });

  it("updates, completes and deletes, and shows the events in todoEvents with their status", async () => {
    const id = (await create("alice", { title: "draft" })).data!.createTodo.id;
    await harness.execute(UpdateTodoDocument, { id, input: { title: "final", priority: "HIGH" } }, "alice");
    await harness.execute(CompleteTodoDocument, { id }, "alice");
    const deleted = await harness.execute(DeleteTodoDocument, { id }, "alice");
    expect(deleted.data?.deleteTodo).toEqual({ success: true, id });

    const pending = await harness.execute(TodoEventHistoryDocument, {}, "alice");
    expect(pending.data!.todoEvents.edges.map((edge) => [edge.node.action, edge.node.status])).toEqual([
      ["task_deleted", "PENDING"],
      ["task_completed", "PENDING"],
      ["task_updated", "PENDING"],
      ["task_created", "PENDING"],
    ]);
    expect(pending.data!.todoEvents.edges[2].node.details).toEqual({ title: "final", priority: "HIGH" });

    await harness.relay.drainOnce();
    const published = await harness.execute(TodoEventHistoryDocument, { first: 10 }, "alice");
    expect(
      published.data!.todoEvents.edges.every((edge) => edge.node.status === "PUBLISHED" && edge.node.attempts === 1),
    ).toBe(true);
    expect(harness.publisher.published.map((message) => message.payload.action)).toEqual([
      "task_created",
      "task_updated",
      "task_completed",
      "task_deleted",
    ]);
    expect((await harness.execute(TodoEventHistoryDocument, {}, "bob")).data!.todoEvents.edges).toEqual([]);
  });

  it("refuses an update with a null title or nothing to change", async () => {
    const id = (await create("alice", { title: "keep" })).data!.createTodo.id;

    const nullTitle = await harness.execute(UpdateTodoDocument, { id, input: { title: null } }, "alice");
    const empty = await harness.execute(UpdateTodoDocument, { id, input: {} }, "alice");

    expect(nullTitle.errors?.[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.title" });
    expect(empty.errors?.[0].extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input" });
  });
});
