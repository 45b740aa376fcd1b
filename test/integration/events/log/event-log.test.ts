/**
 * The event log on SQLite and PostgreSQL: one sequence per user across triggered and mutation
 * events, FAILED triggers that are never relayed, idempotent retries on another instance,
 * retention that never renumbers, and the upgrade that numbers the previous version's rows.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidInputError } from "../../../../src/app-error";
import type { AuthenticatedUser } from "../../../../src/auth/access-token";
import { openDatabase, type Database } from "../../../../src/db/database";
import { OutboxRepository } from "../../../../src/events/log/outbox.repository";
import { IdempotencyKeyRepository } from "../../../../src/events/trigger/idempotency-key.repository";
import { EventPublishFailedError, type TriggerContext } from "../../../../src/events/trigger/trigger.service";
import type { TriggerRequest } from "../../../../src/events/todo-event-rules";
import type { Services } from "../../../../src/graphql/context";
import { createServices, type ServiceGraph } from "../../../../src/services";
import { testConfig } from "../../../support/config";
import { DIALECTS, openTestDatabase, type TestDatabase } from "../../../support/databases";
import { InMemoryEventPublisher } from "../../../support/in-memory-event-publisher";
import { silentLogger } from "../../../support/logger";
import { createPreviousVersionDatabase, type PreviousVersionDatabase } from "../../../support/old-schema-database";

const alice: AuthenticatedUser = { id: "alice" };
const bob: AuthenticatedUser = { id: "bob" };
const carol: AuthenticatedUser = { id: "carol" };
const request: TriggerContext = { log: silentLogger };
const fastRelay = { pollIntervalMs: 5, backoff: { baseMs: 5, maxMs: 20 } };
const DAY_MS = 24 * 60 * 60 * 1000;

async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The promise's rejection; fails the test if it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

/** The user's log rows in append (id) order. */
async function logOf(database: Database, user: AuthenticatedUser) {
  const rows = await database.db
    .selectFrom("outbox")
    .select(["id", "sequence", "event_id", "status", "last_error", "action"])
    .where("user_id", "=", user.id)
    .orderBy("id")
    .execute();
  return rows.map((row) => ({ ...row, sequence: Number(row.sequence) }));
}

function publishedSequencesOf(publisher: InMemoryEventPublisher, user: AuthenticatedUser): number[] {
  return publisher.published
    .filter((message) => message.payload.user_id === user.id)
    .map((message) => message.payload.sequence);
}

async function drained(graph: ServiceGraph): Promise<void> {
  await eventually(async () => (await graph.backlog.read()).pending === 0);
}

/**
 * `count` requests of one user at once, triggers and mutations mixed, each writing exactly one
 * event: triggers on, updates of and completions of todos created beforehand. Returns how many
 * events the user has then, the todos' own task_created included.
 */
async function mixedRequestsOf(services: Services, user: AuthenticatedUser, count: number): Promise<number> {
  const todos: number[] = [];
  for (let index = 0; index < count / 5; index += 1) {
    todos.push((await services.todos.create(user, { title: `${user.id} ${index}` })).id);
  }
  await Promise.all(
    range(0, count - 1).map(async (index) => {
      const taskId = todos[Math.floor(index / 5)];
      switch (index % 5) {
        case 0:
        case 1:
          return services.triggers.trigger(user, { taskId, action: "reminder_sent", details: { index } }, request);
        case 2:
          return services.todos.create(user, { title: `${user.id} new ${index}` });
        case 3:
          return services.todos.update(user, taskId, { title: `${user.id} renamed ${index}` });
        default:
          // Each completion of its own todo, so each one changes something and writes an event.
          return services.todos.complete(user, taskId);
      }
    }),
  );
  return todos.length + count;
}

describe.each(DIALECTS)("the event log on %s", (dialect) => {
  let database: TestDatabase;
  let publisher: InMemoryEventPublisher;
  /** Run last first after each test: relays stop before their databases close. */
  let cleanups: (() => Promise<void>)[];

  beforeEach(async () => {
    database = await openTestDatabase(dialect, { poolSize: 20 });
    publisher = new InMemoryEventPublisher();
    cleanups = [() => database.dispose()];
  });
  afterEach(async () => {
    for (let cleanup = cleanups.pop(); cleanup !== undefined; cleanup = cleanups.pop()) await cleanup();
  });

  function instanceOn(on: Database, env: Record<string, string> = {}, backoff = fastRelay.backoff): ServiceGraph {
    const graph = createServices({
      database: on,
      publisher,
      logger: silentLogger,
      config: testConfig(env),
      relayTuning: { ...fastRelay, backoff },
    });
    cleanups.push(() => graph.relay.stop());
    return graph;
  }

  function running(graph: ServiceGraph): ServiceGraph {
    graph.relay.start();
    return graph;
  }

  /** A todo whose task_created is already published, so a trigger on it publishes at once. */
  async function publishedTodo(graph: ServiceGraph, user: AuthenticatedUser = alice): Promise<number> {
    const todo = await graph.services.todos.create(user, { title: "water the plants" });
    await drained(graph);
    return todo.id;
  }

  describe("sequences", () => {
    it("numbers 200 concurrent triggers and mutations of one user 1..n and publishes them in that order", async () => {
      const graph = running(instanceOn(database));

      const events = await mixedRequestsOf(graph.services, alice, 200);
      await drained(graph);

      expect((await logOf(database, alice)).map((row) => row.sequence)).toEqual(range(1, events));
      expect(publishedSequencesOf(publisher, alice)).toEqual(range(1, events));
    });

    it("numbers each user's events 1..n and publishes them in that order when 20 users make 20 requests each at once", async () => {
      const graph = running(instanceOn(database));
      const users = range(1, 20).map((index) => ({ id: `user-${index}` }));

      const counts = await Promise.all(users.map((user) => mixedRequestsOf(graph.services, user, 20)));
      await drained(graph);

      for (const [index, user] of users.entries()) {
        expect((await logOf(database, user)).map((row) => row.sequence)).toEqual(range(1, counts[index]));
        expect(publishedSequencesOf(publisher, user)).toEqual(range(1, counts[index]));
      }
    });

    it("answers a trigger with its event's sequence, counted with the user's mutation events", async () => {
      const graph = running(instanceOn(database));
      const taskId = await publishedTodo(graph);
      await graph.services.todos.complete(alice, taskId);

      const triggered = await graph.services.triggers.trigger(alice, { taskId, action: "reminder_sent" }, request);

      expect(triggered).toEqual({ eventId: expect.any(String), sequence: 3, replayed: false });
      expect(await logOf(database, alice)).toContainEqual(
        expect.objectContaining({ event_id: triggered.eventId, sequence: 3, status: "PUBLISHED" }),
      );
    });
  });

  describe("history", () => {
    it("lists triggered events beside mutation events, newest first, each with its sequence", async () => {
      const { services } = running(instanceOn(database));
      const todo = await services.todos.create(alice, { title: "call the plumber" });
      await services.triggers.trigger(alice, { taskId: todo.id, action: "reminder_sent" }, request);
      await services.todos.complete(alice, todo.id);
      await services.triggers.trigger(alice, { taskId: todo.id, action: "shared" }, request);

      const page = await services.eventHistory.page(alice, 10, undefined);

      expect(page.items.map((record) => [record.event.action, record.sequence, record.event.sequence])).toEqual([
        ["shared", 4, 4],
        ["task_completed", 3, 3],
        ["reminder_sent", 2, 2],
        ["task_created", 1, 1],
      ]);
    });

    it("pages through the history newest first, after the last sequence of the page before", async () => {
      const { services } = running(instanceOn(database));
      // Bob's events between Alice's make her rows' ids differ from her sequences.
      const bobs = await services.todos.create(bob, { title: "fix the gate" });
      const todo = await services.todos.create(alice, { title: "call the plumber" });
      await services.triggers.trigger(bob, { taskId: bobs.id, action: "reminder_sent" }, request);
      await services.triggers.trigger(alice, { taskId: todo.id, action: "reminder_sent" }, request);
      await services.triggers.trigger(bob, { taskId: bobs.id, action: "shared" }, request);
      await services.triggers.trigger(alice, { taskId: todo.id, action: "shared" }, request);

      const first = await services.eventHistory.page(alice, 2, undefined);
      expect(first.items.map((record) => record.id)).not.toEqual(first.items.map((record) => record.sequence));
      const rest = await services.eventHistory.page(alice, 2, first.items.at(-1)?.sequence);

      expect(first.items.map((record) => record.sequence)).toEqual([3, 2]);
      expect(first.hasNextPage).toBe(true);
      expect(rest.items.map((record) => record.sequence)).toEqual([1]);
      expect(rest.hasNextPage).toBe(false);
    });
  });

  describe("a trigger whose publish fails", () => {
    /** Alice's todo, published, then a trigger on it that the broker refuses. */
    async function failedTrigger(graph: ServiceGraph): Promise<{ taskId: number; error: EventPublishFailedError }> {
      const taskId = await publishedTodo(graph);
      publisher.failFor(alice.id, 1);
      const error = await rejectionOf(
        graph.services.triggers.trigger(alice, { taskId, action: "reminder_sent" }, request),
      );
      if (!(error instanceof EventPublishFailedError)) throw error;
      return { taskId, error };
    }

    it("answers EVENT_PUBLISH_FAILED with the event, and leaves its entry FAILED with the reason", async () => {
      const graph = running(instanceOn(database));

      const { error } = await failedTrigger(graph);

      expect(error).toMatchObject({ code: "EVENT_PUBLISH_FAILED", sequence: 2, eventId: expect.any(String) });
      expect((await logOf(database, alice))[1]).toMatchObject({
        event_id: error.eventId,
        sequence: 2,
        status: "FAILED",
        last_error: expect.stringContaining("rejected"),
      });
    });

    it("is never published by the relay", async () => {
      const graph = running(instanceOn(database));
      const { taskId, error } = await failedTrigger(graph);
      // The relay keeps passing over the log while the user's later events come and go.
      await graph.services.todos.complete(alice, taskId);
      await drained(graph);
      await new Promise((resolve) => setTimeout(resolve, 50));
      await graph.relay.stop();

      expect(await graph.relay.drainOnce()).toBe(0);
      expect(publisher.published.map((message) => message.payload.event_id)).not.toContain(error.eventId);
      expect((await logOf(database, alice))[1]).toMatchObject({ event_id: error.eventId, status: "FAILED" });
    });

    it("holds back none of the user's later events", async () => {
      const graph = running(instanceOn(database));
      const { taskId } = await failedTrigger(graph);

      const triggered = await graph.services.triggers.trigger(alice, { taskId, action: "shared" }, request);
      await graph.services.todos.complete(alice, taskId);
      await drained(graph);

      expect(triggered.sequence).toBe(3);
      expect(publishedSequencesOf(publisher, alice)).toEqual([1, 3, 4]);
    });

    it("leaves a gap at its sequence that the history shows as FAILED", async () => {
      const graph = running(instanceOn(database));
      const { taskId } = await failedTrigger(graph);
      await graph.services.triggers.trigger(alice, { taskId, action: "shared" }, request);

      const page = await graph.services.eventHistory.page(alice, 10, undefined);

      expect(page.items.map((record) => [record.sequence, record.status])).toEqual([
        [3, "PUBLISHED"],
        [2, "FAILED"],
        [1, "PUBLISHED"],
      ]);
      expect(page.items[1].lastError).toContain("rejected");
    });

    it("is FAILED too when it waited for the relay in vain, and is not published afterwards", async () => {
      const graph = instanceOn(database, { PUBLISH_TIMEOUT_MS: "100" });
      // Not yet published: the trigger queues behind it and waits for a relay that is not running.
      const todo = await graph.services.todos.create(alice, { title: "call the plumber" });

      const error = await rejectionOf(
        graph.services.triggers.trigger(alice, { taskId: todo.id, action: "reminder_sent" }, request),
      );
      await graph.relay.drainOnce();

      expect(error).toMatchObject({ code: "EVENT_PUBLISH_FAILED", sequence: 2 });
      expect((await logOf(database, alice))[1]).toMatchObject({
        status: "FAILED",
        last_error: expect.stringContaining("timeout"),
      });
      expect(publishedSequencesOf(publisher, alice)).toEqual([1]);
    });

    it("is not published by a relay pass that read it before it timed out", async () => {
      const graph = instanceOn(database, { PUBLISH_TIMEOUT_MS: "300" });
      const todo = await graph.services.todos.create(alice, { title: "call the plumber" });
      const triggering = rejectionOf(
        graph.services.triggers.trigger(alice, { taskId: todo.id, action: "reminder_sent" }, request),
      );
      await eventually(async () => (await logOf(database, alice)).length === 2);
      // The relay reads both pending events, then the broker keeps it waiting on the first
      // until the trigger behind it has given up.
      const release = publisher.hold();
      running(graph);
      await eventually(async () => publisher.attempts > 0);
      const error = await triggering;
      release();
      await drained(graph);

      expect(error).toMatchObject({ code: "EVENT_PUBLISH_FAILED", sequence: 2 });
      expect((await logOf(database, alice))[1]).toMatchObject({ status: "FAILED" });
      expect(publishedSequencesOf(publisher, alice)).toEqual([1]);
    });
  });

  describe("idempotent retries", () => {
    /**
     * The data as another process sees it: on SQLite the same file after the first process
     * closed it, on PostgreSQL a second instance beside the first.
     */
    async function restartable(): Promise<{ first: Database; next(): Promise<Database> }> {
      if (dialect === "postgres") {
        return {
          first: database,
          async next() {
            const second = await openDatabase(database.url);
            cleanups.push(() => second.close());
            return second;
          },
        };
      }
      const dir = mkdtempSync(join(tmpdir(), "todo-event-log-"));
      const url = `sqlite:${join(dir, "todos.db")}`;
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      const first = await openDatabase(url);
      let closed = false;
      cleanups.push(async () => (closed ? undefined : first.close()));
      return {
        first,
        async next() {
          closed = true;
          await first.close();
          const reopened = await openDatabase(url);
          cleanups.push(() => reopened.close());
          return reopened;
        },
      };
    }

    it(`answers a retry on ${dialect === "sqlite" ? "a restarted" : "another"} instance with the first event, published once`, async () => {
      const data = await restartable();
      const before = running(instanceOn(data.first));
      const taskId = await publishedTodo(before);
      const once: TriggerRequest = { taskId, action: "reminder_sent", idempotencyKey: "remind-1" };
      const first = await before.services.triggers.trigger(alice, once, request);
      await before.relay.stop();

      const after = running(instanceOn(await data.next()));
      const retry = await after.services.triggers.trigger(alice, once, request);

      expect(retry).toEqual({ eventId: first.eventId, sequence: first.sequence, replayed: true });
      expect(publisher.published.filter((message) => message.payload.event_id === first.eventId)).toHaveLength(1);
    });

    it("answers concurrent requests with one key with one event, published once", async () => {
      const graph = running(instanceOn(database));
      const taskId = await publishedTodo(graph);
      const once: TriggerRequest = { taskId, action: "reminder_sent", idempotencyKey: "remind-1" };

      const answers = await Promise.all(range(1, 5).map(() => graph.services.triggers.trigger(alice, once, request)));

      const eventIds = new Set(answers.map((answer) => answer.eventId));
      expect(eventIds.size).toBe(1);
      expect(await logOf(database, alice)).toHaveLength(2);
      expect(publisher.published.filter((message) => eventIds.has(message.payload.event_id))).toHaveLength(1);
    });

    it("publishes the same entry again on a retry after a failed publish, and marks it PUBLISHED", async () => {
      const graph = running(instanceOn(database));
      const taskId = await publishedTodo(graph);
      const once: TriggerRequest = { taskId, action: "reminder_sent", idempotencyKey: "remind-1" };
      publisher.failFor(alice.id, 1);
      const failed = await rejectionOf(graph.services.triggers.trigger(alice, once, request));
      if (!(failed instanceof EventPublishFailedError)) throw failed;

      const retry = await graph.services.triggers.trigger(alice, once, request);

      expect(retry).toMatchObject({ eventId: failed.eventId, sequence: failed.sequence });
      expect(await logOf(database, alice)).toEqual([
        expect.objectContaining({ sequence: 1 }),
        expect.objectContaining({ event_id: failed.eventId, sequence: failed.sequence, status: "PUBLISHED" }),
      ]);
      expect(
        publisher.published
          .filter((message) => message.payload.event_id === failed.eventId)
          .map((message) => message.payload.sequence),
      ).toEqual([failed.sequence]);
    });

    it("publishes a retried trigger only after the user's earlier events that are still pending", async () => {
      // The relay's retry of the earlier event comes well within the trigger's publish timeout.
      const graph = instanceOn(database, { PUBLISH_TIMEOUT_MS: "300" }, { baseMs: 100, maxMs: 100 });
      const todo = await graph.services.todos.create(alice, { title: "call the plumber" });
      const once: TriggerRequest = { taskId: todo.id, action: "reminder_sent", idempotencyKey: "remind-1" };
      // Timed out behind the todo's task_created, which no relay has published yet.
      await rejectionOf(graph.services.triggers.trigger(alice, once, request));
      // Then the relay's first attempt at the task_created fails; its retry is due shortly.
      publisher.failFor(alice.id, 1);
      running(graph);
      await eventually(async () => (await logOf(database, alice))[0].last_error !== null);

      await graph.services.triggers.trigger(alice, once, request);
      await drained(graph);

      expect(publishedSequencesOf(publisher, alice)).toEqual([1, 2]);
    });

    it("refuses the key for a different request with BAD_USER_INPUT, and appends nothing", async () => {
      const graph = running(instanceOn(database));
      const taskId = await publishedTodo(graph);
      await graph.services.triggers.trigger(alice, { taskId, action: "reminder_sent", idempotencyKey: "k-1" }, request);

      const error = await rejectionOf(
        graph.services.triggers.trigger(alice, { taskId, action: "shared", idempotencyKey: "k-1" }, request),
      );

      expect(error).toBeInstanceOf(InvalidInputError);
      expect(error).toMatchObject({ code: "BAD_USER_INPUT", field: "input.idempotencyKey" });
      expect(await logOf(database, alice)).toHaveLength(2);
    });
  });

  describe("retention", () => {
    const outbox = new OutboxRepository(dialect);
    const keys = new IdempotencyKeyRepository();
    /** Later than every event of the test: prunes whatever may be pruned. */
    const future = () => new Date(Date.now() + 60_000);

    it("prunes PUBLISHED and FAILED events and keeps PENDING ones", async () => {
      const graph = running(instanceOn(database));
      const taskId = await publishedTodo(graph);
      publisher.failFor(alice.id, 1);
      await rejectionOf(graph.services.triggers.trigger(alice, { taskId, action: "reminder_sent" }, request));
      await graph.services.triggers.trigger(alice, { taskId, action: "shared" }, request);
      await graph.relay.stop();
      await graph.services.todos.complete(alice, taskId);

      expect(await outbox.prune(database.db, future(), 500)).toBe(3);

      expect(await logOf(database, alice)).toEqual([
        expect.objectContaining({ sequence: 4, action: "task_completed", status: "PENDING" }),
      ]);
    });

    it("continues a user's numbering after their events were pruned", async () => {
      const graph = running(instanceOn(database));
      const taskId = await publishedTodo(graph);
      await graph.services.triggers.trigger(alice, { taskId, action: "reminder_sent" }, request);
      await outbox.prune(database.db, future(), 500);

      const triggered = await graph.services.triggers.trigger(alice, { taskId, action: "shared" }, request);
      await graph.services.todos.complete(alice, taskId);

      expect(triggered.sequence).toBe(3);
      expect((await logOf(database, alice)).map((row) => row.sequence)).toEqual([3, 4]);
    });

    it("records per user the highest sequence pruned", async () => {
      const graph = running(instanceOn(database));
      await publishedTodo(graph, alice);
      await publishedTodo(graph, alice);
      await publishedTodo(graph, bob);

      await outbox.prune(database.db, future(), 500);
      await outbox.prune(database.db, future(), 500);

      expect(await outbox.prunedThrough(database.db, alice.id)).toBe(2);
      expect(await outbox.prunedThrough(database.db, bob.id)).toBe(1);
      expect(await outbox.prunedThrough(database.db, carol.id)).toBe(0);
    });

    it("refuses to resume a subscription from before the pruned events with CURSOR_EXPIRED", async () => {
      const graph = running(instanceOn(database));
      await publishedTodo(graph);
      await publishedTodo(graph);
      await outbox.prune(database.db, future(), 500);

      const error = await rejectionOf(graph.services.subscriptions.subscribe(alice.id, 1));
      const resumed = await graph.services.subscriptions.subscribe(alice.id, 2);
      await resumed.return?.();

      expect(error).toMatchObject({ code: "CURSOR_EXPIRED", extensions: { prunedThrough: 2 } });
    });

    it("is run by the relay on events older than EVENT_RETENTION_DAYS, keeping newer ones", async () => {
      const graph = instanceOn(database, { EVENT_RETENTION_DAYS: "1" });
      await graph.services.todos.create(alice, { title: "old" });
      await graph.services.todos.create(alice, { title: "new" });
      await graph.relay.drainOnce();
      const twoDaysAgo = new Date(Date.now() - 2 * DAY_MS).toISOString();
      await database.db.updateTable("outbox").set({ created_at: twoDaysAgo }).where("sequence", "=", 1).execute();

      running(graph);

      await eventually(async () => (await logOf(database, alice)).length === 1);
      expect((await logOf(database, alice)).map((row) => row.sequence)).toEqual([2]);
      expect(await outbox.prunedThrough(database.db, alice.id)).toBe(1);
    });

    it("removes expired idempotency keys and keeps live ones", async () => {
      const graph = running(instanceOn(database));
      const taskId = await publishedTodo(graph);
      await graph.services.triggers.trigger(alice, { taskId, action: "reminder_sent", idempotencyKey: "k-1" }, request);
      const storedKeys = () => database.db.selectFrom("idempotency_keys").select("idempotency_key").execute();

      expect(await keys.pruneExpired(database.db, new Date(), 500)).toBe(0);
      expect(await storedKeys()).toHaveLength(1);
      expect(await keys.pruneExpired(database.db, new Date(Date.now() + DAY_MS + 60_000), 500)).toBe(1);
      expect(await storedKeys()).toHaveLength(0);
    });
  });
});

describe.each(DIALECTS)("upgrading the previous version's log on %s", (dialect) => {
  let previous: PreviousVersionDatabase;
  let upgraded: Database | undefined;
  /** Alice's and Bob's events as the previous version appended them, interleaved. */
  let eventIds: string[];

  beforeEach(async () => {
    previous = await createPreviousVersionDatabase(dialect);
    eventIds = [];
    for (const [user, status] of [
      [alice, "PUBLISHED"],
      [bob, "PUBLISHED"],
      [alice, "PUBLISHED"],
      [alice, "PUBLISHED"],
      [bob, "PENDING"],
      [alice, "PENDING"],
    ] as const) {
      eventIds.push(await previous.append({ userId: user.id, action: "task_updated", taskId: 1, status }));
    }
    await previous.close();
    upgraded = undefined;
  });
  afterEach(async () => {
    await upgraded?.close();
    await previous.dispose();
  });

  async function upgrade(): Promise<Database> {
    upgraded = await openDatabase(previous.url);
    return upgraded;
  }

  function instanceOn(on: Database, publisher = new InMemoryEventPublisher()): ServiceGraph {
    return createServices({
      database: on,
      publisher,
      logger: silentLogger,
      config: testConfig(),
      relayTuning: fastRelay,
    });
  }

  it("numbers each user's existing events 1..n in the order they were appended", async () => {
    const database = await upgrade();

    expect((await logOf(database, alice)).map((row) => [row.event_id, row.sequence])).toEqual([
      [eventIds[0], 1],
      [eventIds[2], 2],
      [eventIds[3], 3],
      [eventIds[5], 4],
    ]);
    expect((await logOf(database, bob)).map((row) => [row.event_id, row.sequence])).toEqual([
      [eventIds[1], 1],
      [eventIds[4], 2],
    ]);
  });

  it("records each user's last sequence, with nothing pruned yet", async () => {
    const database = await upgrade();

    const rows = await database.db.selectFrom("user_sequences").selectAll().orderBy("user_id").execute();

    expect(rows.map((row) => [row.user_id, Number(row.last_sequence), Number(row.pruned_through)])).toEqual([
      ["alice", 4, 0],
      ["bob", 2, 0],
    ]);
  });

  it("continues each user's numbering with their next event", async () => {
    const database = await upgrade();
    const { services } = instanceOn(database);

    await services.todos.create(alice, { title: "after the upgrade" });
    await services.todos.create(bob, { title: "after the upgrade" });

    expect((await logOf(database, alice)).at(-1)).toMatchObject({ action: "task_created", sequence: 5 });
    expect((await logOf(database, bob)).at(-1)).toMatchObject({ action: "task_created", sequence: 3 });
  });

  it("gives a migrated event its sequence in the payload that history returns", async () => {
    const { services } = instanceOn(await upgrade());

    const page = await services.eventHistory.page(alice, 10, undefined);

    expect(page.items.map((record) => record.event.sequence)).toEqual([4, 3, 2, 1]);
  });

  it("publishes a migrated pending event with its sequence in the payload", async () => {
    const publisher = new InMemoryEventPublisher();
    const graph = instanceOn(await upgrade(), publisher);

    await graph.relay.drainOnce();

    expect(
      publisher.published.map((message) => [
        message.payload.user_id,
        message.payload.event_id,
        message.payload.sequence,
      ]),
    ).toEqual(
      expect.arrayContaining([
        ["bob", eventIds[4], 2],
        ["alice", eventIds[5], 4],
      ]),
    );
  });
});
