/**
 * The Python example consumer (examples/python-consumer), run by its own run.sh with its own
 * daprd and component, against the real API, daprd and Kafka: it reads what was published before
 * it ever ran, receives every event of two users, loses nothing across a restart, drops a
 * redelivered record, tells a gap and a late event, and refuses an event that breaks the contract.
 */
import { randomUUID } from "node:crypto";
import {
  CompleteTodoDocument,
  CreateTodoDocument,
  DeleteTodoDocument,
  TriggerTodoEventDocument,
} from "../generated/graphql";
import { publishMetadataFor, type TodoEventPayload } from "../../src/events/todo-event";
import { cloudEventFor } from "../support/deliveries";
import { readTodoEvents } from "../support/event-contract";
import { todoEventPayload } from "../support/event-payloads";
import {
  exampleConsumer,
  installExampleConsumer,
  CONSUMER_INSTALL_TIMEOUT_MS,
  type ConsumedUser,
  type ExampleConsumer,
} from "../support/example-consumer";
import { asUser, postGraphQL } from "../support/test-server";
import { produceRecords, type TopicReader } from "../stack/kafka";
import { waitUntil } from "../stack/processes";
import { startStack, STACK_START_TIMEOUT_MS, STACK_STOP_TIMEOUT_MS, type Stack } from "../stack/stack";

const DELIVERY_TIMEOUT_MS = 60_000;
const run = randomUUID().slice(0, 8);
const alice = `py-alice-${run}`;
const bob = `py-bob-${run}`;
const users = [alice, bob] as const;

let stack: Stack;
let topic: TopicReader | undefined;
let consumer: ExampleConsumer;

beforeAll(async () => {
  [stack] = await Promise.all([startStack(), installExampleConsumer()]);
  topic = await readTodoEvents(stack.brokers);
  consumer = await exampleConsumer({ brokers: stack.brokers, workDir: stack.workDir });
}, STACK_START_TIMEOUT_MS + CONSUMER_INSTALL_TIMEOUT_MS);

afterAll(async () => {
  try {
    await consumer?.stop().catch(() => undefined);
    // Throws when a record broke the contract: the stack is stopped all the same.
    await topic?.close();
  } finally {
    await stack?.stop();
  }
}, STACK_STOP_TIMEOUT_MS);

let logsShown = false;
/** On the first failure prints the consumer's output and the stack's log tails, and keeps them. */
function withLogs(body: () => Promise<void>): () => Promise<void> {
  return async () => {
    try {
      await body();
    } catch (error) {
      stack.keepWorkDir();
      if (!logsShown) {
        process.stderr.write(`[e2e] consumer output:\n${consumer.output()}\n[e2e] stack:\n${stack.logTails(30)}\n`);
      }
      logsShown = true;
      throw error;
    }
  };
}

async function as<TData, TVariables>(
  userId: string,
  document: Parameters<typeof postGraphQL<TData, TVariables>>[1],
  variables: TVariables,
): Promise<TData> {
  const response = await postGraphQL(stack.origin, document, variables, asUser(userId));
  if (response.body.errors !== undefined || response.body.data == null) {
    throw new Error(`request as ${userId} failed: HTTP ${response.status} ${JSON.stringify(response.body.errors)}`);
  }
  return response.body.data;
}

/** Three events of the user's: a new todo, a trigger on it, and completing (or deleting) it. */
async function threeEventsOf(userId: string, last: "complete" | "delete"): Promise<void> {
  const id = (await as(userId, CreateTodoDocument, { input: { title: `${userId}'s todo` } })).createTodo.id;
  await as(userId, TriggerTodoEventDocument, { taskId: id, input: { action: "task_reviewed", details: { run } } });
  if (last === "complete") await as(userId, CompleteTodoDocument, { id });
  else await as(userId, DeleteTodoDocument, { id });
}

/** The user's event ids in Kafka, in sequence order, once `count` of them are on the topic. */
async function publishedIdsOf(userId: string, count: number): Promise<string[]> {
  const records = await topic!.waitFor(
    (all) =>
      new Set(all.filter((record) => record.key === userId).map((record) => recordEvent(record).event_id)).size >=
      count,
    DELIVERY_TIMEOUT_MS,
  );
  const bySequence = new Map<number, string>();
  for (const record of records.filter((candidate) => candidate.key === userId)) {
    const event = recordEvent(record);
    bySequence.set(event.sequence, event.event_id);
  }
  return [...bySequence.entries()].sort(([a], [b]) => a - b).map(([, id]) => id);
}

const recordEvent = (record: { value: unknown }): TodoEventPayload => (record.value as { data: TodoEventPayload }).data;

async function waitForConsumed(check: (users: Record<string, ConsumedUser>) => boolean, what: string): Promise<void> {
  await waitUntil(async () => check((await consumer.summary()).users), {
    what: `the consumer to have ${what}`,
    timeoutMs: DELIVERY_TIMEOUT_MS,
  });
}

const hasEvents =
  (count: number) =>
  (consumed: Record<string, ConsumedUser>): boolean =>
    users.every((user) => (consumed[user]?.events ?? 0) >= count);

/** The consumer has every event of the user, once each, in the order Kafka holds them. */
async function expectEveryEventOnce(userId: string, publishedIds: string[]): Promise<void> {
  const consumed = await consumer.eventsOf(userId);
  expect(consumed.map((event) => event.event_id)).toEqual(publishedIds);
  expect(consumed.map((event) => event.sequence)).toEqual(publishedIds.map((_, index) => index + 1));
  const { users: summary } = await consumer.summary();
  expect(summary[userId]).toMatchObject({
    events: publishedIds.length,
    last_sequence: publishedIds.length,
    missing: [],
    late: 0,
  });
}

describe("the Python example consumer on its own component and consumer group", () => {
  it(
    "reads the events published before it ever ran, from the oldest offset",
    withLogs(async () => {
      for (const user of users) await threeEventsOf(user, "complete");
      const published = new Map(
        await Promise.all(users.map(async (user) => [user, await publishedIdsOf(user, 3)] as const)),
      );

      await consumer.start();
      await waitForConsumed(hasEvents(3), "3 events of each user");

      for (const user of users) await expectEveryEventOnce(user, published.get(user)!);
    }),
    2 * DELIVERY_TIMEOUT_MS,
  );

  it(
    "receives every event of two users while it runs, and prints a summary line per user",
    withLogs(async () => {
      for (const user of users) await threeEventsOf(user, "delete");
      await waitForConsumed(hasEvents(6), "6 events of each user");

      for (const user of users) await expectEveryEventOnce(user, await publishedIdsOf(user, 6));
      for (const user of users) {
        expect(consumer.output()).toContain(
          `${user}: 6 events, last sequence 6, no gaps, 0 duplicates dropped, 0 late`,
        );
      }
    }),
    2 * DELIVERY_TIMEOUT_MS,
  );

  it(
    "loses nothing across a restart: what was published while it was down arrives when it is back",
    withLogs(async () => {
      const exit = await consumer.stop();
      expect(exit.code).toBe(0);
      for (const user of users) await threeEventsOf(user, "complete");
      const published = new Map(
        await Promise.all(users.map(async (user) => [user, await publishedIdsOf(user, 9)] as const)),
      );
      await expect(consumer.summary()).rejects.toThrow();

      await consumer.start();
      await waitForConsumed(hasEvents(9), "9 events of each user");

      for (const user of users) await expectEveryEventOnce(user, published.get(user)!);
    }),
    3 * DELIVERY_TIMEOUT_MS,
  );

  it(
    "drops a redelivered record by its event_id",
    withLogs(async () => {
      const records = topic!.records();
      const original = records.find((record) => record.key === alice && recordEvent(record).sequence === 5)!;
      expect(original).toBeDefined();
      const before = (await consumer.summary()).users[alice];

      await produceRecords(stack.brokers, "todo-events", [original]);
      await waitForConsumed((consumed) => consumed[alice].duplicates === before.duplicates + 1, "dropped a duplicate");

      const after = (await consumer.summary()).users[alice];
      expect(after).toEqual({ ...before, duplicates: before.duplicates + 1 });
      expect(
        (await consumer.eventsOf(alice)).filter((event) => event.event_id === recordEvent(original).event_id),
      ).toHaveLength(1);
      expect(consumer.output()).toContain(`duplicate of ${recordEvent(original).event_id} dropped`);
    }),
    DELIVERY_TIMEOUT_MS,
  );

  it(
    "tells a gap, and the late event that fills it, by sequence",
    withLogs(async () => {
      const carol = `py-carol-${run}`;
      const eventOf = (sequence: number): TodoEventPayload =>
        todoEventPayload(
          {
            eventId: randomUUID(),
            action: "task_reviewed",
            taskId: 1,
            userId: carol,
            details: { sequence_note: sequence },
          },
          sequence,
        );
      const [first, second, third] = [1, 2, 3].map(eventOf);
      // As another producer could: 1, 3, then 2.
      const recordOf = (event: TodoEventPayload) => ({
        key: carol,
        headers: publishMetadataFor(event),
        value: cloudEventFor(event),
      });

      await produceRecords(stack.brokers, "todo-events", [recordOf(first), recordOf(third)]);
      await waitForConsumed((consumed) => consumed[carol]?.events === 2, "2 events of the third user");
      expect((await consumer.summary()).users[carol]).toMatchObject({ last_sequence: 3, missing: [2], late: 0 });

      await produceRecords(stack.brokers, "todo-events", [recordOf(second)]);
      await waitForConsumed((consumed) => consumed[carol]?.events === 3, "3 events of the third user");
      expect((await consumer.summary()).users[carol]).toMatchObject({ last_sequence: 3, missing: [], late: 1 });
      expect(consumer.output()).toContain(`${carol}: 2 events, last sequence 3, missing 2,`);
      expect(consumer.output()).toContain("#2 task_reviewed (late)");
    }),
    DELIVERY_TIMEOUT_MS,
  );

  it(
    "refuses an event that breaks the contract and goes on consuming",
    withLogs(async () => {
      // The contract reader would fail this file on the record below: every record before it passed.
      await topic!.close();
      topic = undefined;
      const before = await consumer.summary();
      const marker = randomUUID();
      const response = await fetch(
        `http://127.0.0.1:${stack.ports.daprHttp}/v1.0/publish/kafka-pubsub/todo-events?metadata.cloudevent.id=${marker}`,
        {
          method: "POST",
          headers: { "content-type": "application/json", "dapr-api-token": stack.daprApiToken },
          body: JSON.stringify({ event_id: marker, action: "Not An Action", user_id: alice }),
        },
      );
      expect(response.status).toBe(204);
      await waitUntil(async () => (await consumer.summary()).rejected === before.rejected + 1, {
        what: "the consumer to reject the malformed event",
        timeoutMs: DELIVERY_TIMEOUT_MS,
      });
      expect(consumer.output()).toContain(`rejected ${marker}`);

      const id = (await as(alice, CreateTodoDocument, { input: { title: "after the bad one" } })).createTodo.id;
      expect(id).toEqual(expect.any(Number));
      await waitForConsumed((consumed) => consumed[alice].events === before.users[alice].events + 1, "one more event");
      expect((await consumer.summary()).users[alice]).toMatchObject({ missing: [], late: 0 });
    }),
    2 * DELIVERY_TIMEOUT_MS,
  );
});
