import { MeDocument, TriggerTodoEventDocument } from "../../generated/graphql";
import { createGraphQLHarness, onlyErrorCode, type GraphQLHarness } from "../../support/graphql-harness";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("triggerTodoEvent", () => {
  let harness: GraphQLHarness;
  /** A todo owned by user-456. */
  let taskId: number;
  beforeEach(async () => {
    harness = await createGraphQLHarness();
    taskId = await harness.todoFor("user-456");
  });
  afterEach(() => harness.close());

  const trigger = (
    userId: string | null,
    input: { action: string; details?: object; idempotencyKey?: string },
    task: number = taskId,
  ) => harness.execute(TriggerTodoEventDocument, { taskId: task, input: input as never }, userId);

  it("publishes the seed's payload to kafka-pubsub/todo-events for the verified user", async () => {
    const result = await trigger("user-456", {
      action: "task_created",
      details: { title: "Sample task", priority: "high" },
    });

    expect(result.errors).toBeUndefined();
    expect(result.data?.triggerTodoEvent).toEqual({
      success: true,
      message: "Event published successfully",
      eventId: expect.stringMatching(UUID),
    });
    expect(harness.publisher.published).toHaveLength(1);
    const [message] = harness.publisher.published;
    expect(message.pubsubName).toBe("kafka-pubsub");
    expect(message.topic).toBe("todo-events");
    expect(message.payload).toEqual({
      event_id: result.data?.triggerTodoEvent.eventId,
      // The todo's own task_created is the user's first event.
      sequence: 2,
      action: "task_created",
      task_id: taskId,
      user_id: "user-456",
      details: { title: "Sample task", priority: "high" },
      occurred_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      schema_version: 1,
    });
  });

  it("puts user_id, partitionKey and cloudevent.id into the publish metadata", async () => {
    const result = await trigger("user-456", { action: "task_completed" });

    expect(harness.publisher.published[0].metadata).toEqual({
      user_id: "user-456",
      partitionKey: "user-456",
      "cloudevent.id": result.data?.triggerTodoEvent.eventId,
      "cloudevent.type": "todo.task_completed",
    });
  });

  it("refuses a user_id smuggled into details with BAD_USER_INPUT naming it, and publishes nothing", async () => {
    const result = await trigger("user-456", { action: "task_created", details: { user_id: "victim-1" } });

    expect(onlyErrorCode(result)).toBe("BAD_USER_INPUT");
    expect(result.errors?.[0].extensions?.field).toBe("input.details.user_id");
    expect(harness.publisher.attempts).toBe(0);
  });

  it("refuses a user_id field on the input itself (no input carries a user id)", async () => {
    const result = await trigger("user-456", { action: "task_created", user_id: "victim-1" } as never);

    expect(onlyErrorCode(result)).toBe("BAD_USER_INPUT");
    expect(result.errors?.[0].message).toContain("user_id");
    expect(harness.publisher.attempts).toBe(0);
  });

  it("answers NOT_FOUND for another user's todo and publishes nothing", async () => {
    const result = await trigger("user-789", { action: "task_created" });

    expect(onlyErrorCode(result)).toBe("NOT_FOUND");
    expect(harness.publisher.attempts).toBe(0);
  });

  it("answers NOT_FOUND for a todo that does not exist", async () => {
    expect(onlyErrorCode(await trigger("user-456", { action: "task_created" }, taskId + 1000))).toBe("NOT_FOUND");
  });

  it("answers UNAUTHENTICATED without a token and publishes nothing", async () => {
    const result = await trigger(null, { action: "task_created" });

    expect(onlyErrorCode(result)).toBe("UNAUTHENTICATED");
    expect(result.data).toBeNull();
    expect(harness.publisher.attempts).toBe(0);
  });

  it("turns a publisher failure into EVENT_PUBLISH_FAILED with the seed's message", async () => {
    harness.publisher.failNext(1);

    const result = await trigger("user-456", { action: "task_created" });

    expect(onlyErrorCode(result)).toBe("EVENT_PUBLISH_FAILED");
    expect(result.errors?.[0].message).toBe("Failed to publish event");
    expect(result.errors?.[0].extensions?.eventId).toEqual(expect.stringMatching(UUID));
    expect(harness.publisher.published).toHaveLength(0);
  });

  it("keeps serving after a failed publish", async () => {
    harness.publisher.failNext(1);
    await trigger("user-456", { action: "task_created" });

    const result = await trigger("user-456", { action: "task_created" });

    expect(result.data?.triggerTodoEvent.success).toBe(true);
  });

  describe("input validation", () => {
    it.each([
      ["an upper-case action", { action: "TaskCreated" }, "input.action"],
      ["an empty action", { action: "" }, "input.action"],
      ["an action starting with a digit", { action: "1task" }, "input.action"],
      ["an action longer than 64 characters", { action: `a${"b".repeat(64)}` }, "input.action"],
      ["details over 16 KiB", { action: "task_created", details: { blob: "x".repeat(16 * 1024) } }, "input.details"],
      [
        "an idempotency key with spaces",
        { action: "task_created", idempotencyKey: "two words" },
        "input.idempotencyKey",
      ],
    ])("rejects %s with BAD_USER_INPUT naming the field", async (_case, input, field) => {
      const result = await trigger("user-456", input);

      expect(onlyErrorCode(result)).toBe("BAD_USER_INPUT");
      expect(result.errors?.[0].extensions?.field).toBe(field);
      expect(result.errors?.[0].message).toContain(field);
      expect(harness.publisher.attempts).toBe(0);
    });

    it("rejects a non-positive taskId naming taskId", async () => {
      const result = await trigger("user-456", { action: "task_created" }, 0);

      expect(onlyErrorCode(result)).toBe("BAD_USER_INPUT");
      expect(result.errors?.[0].extensions?.field).toBe("taskId");
    });

    it("accepts details of exactly 16 KiB", async () => {
      const padding = 16 * 1024 - JSON.stringify({ blob: "" }).length;
      const result = await trigger("user-456", { action: "task_created", details: { blob: "x".repeat(padding) } });

      expect(result.errors).toBeUndefined();
    });

    it("rejects details that are not an object", async () => {
      const result = await trigger("user-456", { action: "task_created", details: [1, 2] as never });

      expect(onlyErrorCode(result)).toBe("BAD_USER_INPUT");
      expect(result.errors?.[0].message).toContain("details");
    });
  });

  describe("idempotencyKey", () => {
    const input = { action: "task_created", details: { n: 1 }, idempotencyKey: "retry-key-1" };

    it("returns the same eventId for a retry and publishes once", async () => {
      const first = await trigger("user-456", input);
      const retry = await trigger("user-456", input);

      expect(retry.data?.triggerTodoEvent.eventId).toBe(first.data?.triggerTodoEvent.eventId);
      expect(retry.data?.triggerTodoEvent.message).toMatch(/already published/);
      expect(harness.publisher.published).toHaveLength(1);
    });

    it("reuses the eventId when retrying after a failed publish", async () => {
      harness.publisher.failNext(1);
      const failed = await trigger("user-456", input);
      const retry = await trigger("user-456", input);

      expect(retry.data?.triggerTodoEvent.eventId).toBe(failed.errors?.[0].extensions?.eventId);
      expect(harness.publisher.published.map((message) => message.payload.event_id)).toEqual([
        retry.data?.triggerTodoEvent.eventId,
      ]);
    });

    it("shares one publish between concurrent requests with the same key", async () => {
      const release = harness.publisher.hold();
      const pending = [trigger("user-456", input), trigger("user-456", input), trigger("user-456", input)];
      await new Promise((resolve) => setTimeout(resolve, 20));
      release();
      const results = await Promise.all(pending);

      const eventIds = new Set(results.map((result) => result.data?.triggerTodoEvent.eventId));
      expect(eventIds.size).toBe(1);
      expect(harness.publisher.attempts).toBe(1);
    });

    it("scopes keys per user: another user's identical key mints its own event", async () => {
      const theirTask = await harness.todoFor("user-789");
      const mine = await trigger("user-456", input);
      const theirs = await trigger("user-789", input, theirTask);

      expect(theirs.data?.triggerTodoEvent.eventId).not.toBe(mine.data?.triggerTodoEvent.eventId);
      expect(harness.publisher.published.map((message) => message.payload.user_id)).toEqual(["user-456", "user-789"]);
    });

    it("refuses the same key for a different event", async () => {
      await trigger("user-456", input);
      const result = await trigger("user-456", { ...input, action: "task_deleted" });

      expect(onlyErrorCode(result)).toBe("BAD_USER_INPUT");
      expect(result.errors?.[0].extensions?.field).toBe("input.idempotencyKey");
      expect(harness.publisher.published).toHaveLength(1);
    });
  });
});

describe("me", () => {
  let harness: GraphQLHarness;
  beforeAll(async () => {
    harness = await createGraphQLHarness();
  });
  afterAll(() => harness.close());

  it("returns the verified subject", async () => {
    const result = await harness.execute(MeDocument, {}, "user-456");

    expect(result.data?.me).toEqual({ id: "user-456" });
  });

  it("answers UNAUTHENTICATED for an anonymous caller", async () => {
    expect(onlyErrorCode(await harness.execute(MeDocument, {}, null))).toBe("UNAUTHENTICATED");
  });
});
