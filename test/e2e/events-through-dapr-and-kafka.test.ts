/**
 * End to end: real JWTs → the built API process → a real Dapr sidecar → a real
 * Kafka broker, read back with a Kafka consumer, because only the real broker shows
 * what the seed's Python consumers receive (payload, key, headers) and whether events
 * survive a sidecar outage. Every record read back is validated against schema/asyncapi.yaml.
 * One stack for the whole file: starting it is the expensive part.
 */
import { randomUUID } from "node:crypto";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { parse } from "graphql";
import {
  CompleteTodoDocument,
  CreateTodoDocument,
  DeleteTodoDocument,
  TriggerTodoEventDocument,
  UpdateTodoDocument,
  type TodoEventHistoryQuery,
  type TodoEventHistoryQueryVariables,
} from "../generated/graphql";
import { DaprEventPublisher } from "../../src/events/dapr/dapr-event-publisher";
import { silentLogger } from "../support/logger";
import { postGraphQL } from "../support/test-server";
import { tokenFor } from "../support/tokens";
import { readTodoEvents } from "../support/event-contract";
import type { KafkaRecord, TopicReader } from "../stack/kafka";
import { startStack, STACK_START_TIMEOUT_MS, STACK_STOP_TIMEOUT_MS, type Stack } from "../stack/stack";
import { todoEventPayload } from "../support/event-payloads";

const TOPIC = "todo-events";
const DELIVERY_TIMEOUT_MS = 30_000;

/** The event payload (snake_case, fields only ever added), as the seed's consumers read it. */
interface TodoEventPayload {
  readonly event_id: string;
  readonly sequence: number;
  readonly action: string;
  readonly task_id: number;
  readonly user_id: string;
  readonly details: Record<string, unknown>;
  readonly occurred_at: string;
  readonly schema_version: number;
}

/** The CloudEvent envelope daprd wraps around the payload. */
interface TodoCloudEvent {
  readonly id: string;
  readonly type: string;
  readonly datacontenttype?: string;
  readonly data: TodoEventPayload;
}

type HistoryNode = TodoEventHistoryQuery["todoEvents"]["edges"][number]["node"] & { readonly sequence: number };

/** The history with each event's sequence, which consumers see as the payload's `sequence`. */
const EventLogDocument: TypedDocumentNode<
  { todoEvents: { edges: { node: HistoryNode }[] } },
  TodoEventHistoryQueryVariables
> = parse(`
  query EventLog($first: Int, $after: String) {
    todoEvents(first: $first, after: $after) {
      edges { node { eventId sequence action taskId details occurredAt status attempts lastError publishedAt } }
    }
  }
`);

const cloudEvent = (record: KafkaRecord): TodoCloudEvent => record.value as TodoCloudEvent;
const eventIdOf = (record: KafkaRecord): string => cloudEvent(record).id;

let stack: Stack;
let topic: TopicReader;
const suiteStarted = performance.now();

beforeAll(async () => {
  stack = await startStack();
  // Every record this file reads must pass schema/asyncapi.yaml, or the file fails.
  topic = await readTodoEvents(stack.brokers);
}, STACK_START_TIMEOUT_MS);

afterAll(async () => {
  try {
    // Throws when a record broke the contract: the stack is stopped all the same.
    await topic?.close();
  } finally {
    await stack?.stop();
  }
  if (stack !== undefined) {
    process.stderr.write(
      `[e2e] stack start-up ${JSON.stringify(stack.timings)}; ` +
        `whole file ${Math.round(performance.now() - suiteStarted)} ms\n`,
    );
  }
}, STACK_STOP_TIMEOUT_MS);

let logsShown = false;
/** Runs a test body; on the first failure prints the stack's log tails, and keeps its work dir. */
function withStackLogs(body: () => Promise<void>): () => Promise<void> {
  return async () => {
    try {
      await body();
    } catch (error) {
      stack.keepWorkDir();
      if (!logsShown) process.stderr.write(`[e2e] a test failed; stack logs:\n${stack.logTails(40)}\n`);
      logsShown = true;
      throw error;
    }
  };
}

/** Sends an operation with `userId`'s JWT and returns its data, failing loudly on any error. */
async function as<TData, TVariables>(
  userId: string,
  document: TypedDocumentNode<TData, TVariables>,
  variables: TVariables,
): Promise<TData> {
  const response = await postGraphQL(stack.origin, document, variables, {
    authorization: `Bearer ${tokenFor(userId)}`,
  });
  if (response.body.errors !== undefined || response.body.data == null) {
    throw new Error(`request as ${userId} failed: HTTP ${response.status} ${JSON.stringify(response.body.errors)}`);
  }
  return response.body.data;
}

/** The user's event log, newest first. */
async function historyOf(userId: string): Promise<HistoryNode[]> {
  const data = await as(userId, EventLogDocument, { first: 100 });
  return data.todoEvents.edges.map((edge) => edge.node);
}

async function waitForHistory(
  userId: string,
  done: (history: HistoryNode[]) => boolean,
  timeoutMs = DELIVERY_TIMEOUT_MS,
): Promise<HistoryNode[]> {
  const deadline = Date.now() + timeoutMs;
  let history = await historyOf(userId);
  while (!done(history) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    history = await historyOf(userId);
  }
  return history;
}

const allPublished = (history: HistoryNode[]): boolean => history.every((node) => node.status === "PUBLISHED");

/** How many records carry each event id as their CloudEvent id. */
function countByEventId(records: readonly KafkaRecord[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const record of records) counts.set(eventIdOf(record), (counts.get(eventIdOf(record)) ?? 0) + 1);
  return counts;
}

const containsAll =
  (eventIds: readonly string[]) =>
  (records: readonly KafkaRecord[]): boolean => {
    const seen = new Set(records.map(eventIdOf));
    return eventIds.every((id) => seen.has(id));
  };

/** The event ids of `userId`'s records among `eventIds`, in Kafka order, first delivery only. */
function kafkaOrderOf(records: readonly KafkaRecord[], userId: string, eventIds: readonly string[]): string[] {
  const wanted = new Set(eventIds);
  const order: string[] = [];
  for (const record of records) {
    const id = eventIdOf(record);
    if (record.key === userId && wanted.has(id) && !order.includes(id)) order.push(id);
  }
  return order;
}

const sequenceOf = (record: KafkaRecord): number => cloudEvent(record).data.sequence;

/** The sequences of `userId`'s records in Kafka order, every delivery counted. */
function kafkaSequencesOf(records: readonly KafkaRecord[], userId: string): number[] {
  return records.filter((record) => record.key === userId).map(sequenceOf);
}

/** 1, 2, …, count. */
const oneTo = (count: number): number[] => Array.from({ length: count }, (_, index) => index + 1);

const run = randomUUID().slice(0, 8);
const alice = `alice-${run}`;
const bob = `bob-${run}`;
const users = [alice, bob] as const;

/** Each user's records come in the order of the user's event history (histories are newest first). */
function expectKafkaOrderOfHistories(
  records: readonly KafkaRecord[],
  histories: ReadonlyMap<string, readonly HistoryNode[]>,
): void {
  for (const user of users) {
    const oldestFirst = histories
      .get(user)!
      .map((node) => node.eventId)
      .reverse();
    expect(kafkaOrderOf(records, user, oldestFirst)).toEqual(oldestFirst);
  }
}

describe("publishing through daprd to Kafka, for two users with their own JWTs", () => {
  const todoIds = new Map<string, number>();
  const triggered = new Map<string, string[]>(users.map((user) => [user, []]));
  const histories = new Map<string, HistoryNode[]>();
  let records: readonly KafkaRecord[] = [];

  const byId = (eventId: string): KafkaRecord[] => records.filter((record) => eventIdOf(record) === eventId);
  /** Every event of the user, triggered or caused by a mutation, as the log holds them (newest first). */
  const loggedIdsOf = (user: string): string[] => histories.get(user)!.map((node) => node.eventId);
  const onlyRecord = (eventId: string): KafkaRecord => {
    const found = byId(eventId);
    expect(found).toHaveLength(1);
    return found[0];
  };

  beforeAll(
    async () => {
      const trigger = async (user: string, note: string): Promise<void> => {
        const data = await as(user, TriggerTodoEventDocument, {
          taskId: todoIds.get(user)!,
          input: { action: "task_reviewed", details: { note, reviewer: { user_id: "someone-else" } } },
        });
        expect(data.triggerTodoEvent).toMatchObject({ success: true });
        triggered.get(user)!.push(data.triggerTodoEvent.eventId);
      };
      // The users take turns at every step, so their events interleave in the outbox and on the topic.
      for (const user of users) {
        const data = await as(user, CreateTodoDocument, {
          input: { title: `${user}'s groceries`, description: "milk", priority: "LOW" },
        });
        todoIds.set(user, data.createTodo.id);
      }
      for (const user of users) await trigger(user, "first look");
      for (const user of users) {
        await as(user, UpdateTodoDocument, { id: todoIds.get(user)!, input: { title: "groceries", priority: "HIGH" } });
      }
      for (const user of users) await as(user, CompleteTodoDocument, { id: todoIds.get(user)! });
      for (const user of users) await trigger(user, "second look");
      for (const user of users) await as(user, DeleteTodoDocument, { id: todoIds.get(user)! });

      for (const user of users) {
        const history = await waitForHistory(user, (nodes) => nodes.length === 6 && allPublished(nodes));
        expect(history.map((node) => [node.action, node.status])).toEqual([
          ["task_deleted", "PUBLISHED"],
          ["task_reviewed", "PUBLISHED"],
          ["task_completed", "PUBLISHED"],
          ["task_updated", "PUBLISHED"],
          ["task_reviewed", "PUBLISHED"],
          ["task_created", "PUBLISHED"],
        ]);
        histories.set(user, history);
      }
      records = await topic.waitFor(containsAll(users.flatMap(loggedIdsOf)), DELIVERY_TIMEOUT_MS);
    },
    2 * DELIVERY_TIMEOUT_MS + 30_000,
  );

  it(
    "logs each triggered event in the user's history under the eventId triggerTodoEvent returned",
    withStackLogs(async () => {
      for (const user of users) {
        const reviews = histories.get(user)!.filter((node) => node.action === "task_reviewed");
        expect(reviews.map((node) => node.eventId)).toEqual([...triggered.get(user)!].reverse());
      }
    }),
  );

  it(
    "delivers every event of both users to the topic exactly once",
    withStackLogs(async () => {
      for (const user of users) {
        const ids = loggedIdsOf(user);
        expect(ids).toHaveLength(6);
        const counts = countByEventId(records);
        expect(ids.map((id) => [id, counts.get(id) ?? 0])).toEqual(ids.map((id) => [id, 1]));
      }
    }),
  );

  it(
    "puts the verified user id in the user_id header",
    withStackLogs(async () => {
      for (const user of users) {
        for (const id of loggedIdsOf(user)) {
          expect(onlyRecord(id).headers.user_id).toBe(user);
        }
      }
    }),
  );

  it(
    "keys each record by the user id, so a user's events share one partition",
    withStackLogs(async () => {
      for (const user of users) {
        const own = loggedIdsOf(user).map(onlyRecord);
        expect(own.map((record) => record.key)).toEqual(own.map(() => user));
        expect(own.map((record) => record.headers.partitionKey)).toEqual(own.map(() => user));
        expect(new Set(own.map((record) => record.partition)).size).toBe(1);
      }
    }),
  );

  it(
    "uses the eventId triggerTodoEvent returned as the CloudEvent id",
    withStackLogs(async () => {
      for (const user of users) {
        for (const eventId of triggered.get(user)!) {
          const record = onlyRecord(eventId);
          expect(record.headers["cloudevent.id"]).toBe(eventId);
          expect(cloudEvent(record)).toMatchObject({
            id: eventId,
            type: "todo.task_reviewed",
            data: { event_id: eventId, action: "task_reviewed", task_id: todoIds.get(user), user_id: user },
          });
        }
      }
    }),
  );

  it(
    "binds a triggered event to the JWT subject even when its details name another user further in",
    withStackLogs(async () => {
      for (const user of users) {
        const [first, second] = triggered.get(user)!.map((id) => cloudEvent(onlyRecord(id)).data);
        expect(first).toMatchObject({ user_id: user, details: { note: "first look" } });
        expect(second).toMatchObject({ user_id: user, details: { note: "second look" } });
      }
    }),
  );

  it(
    "refuses a user_id at the top of details with BAD_USER_INPUT, and nothing of it reaches the topic",
    withStackLogs(async () => {
      const response = await postGraphQL(
        stack.origin,
        TriggerTodoEventDocument,
        { taskId: todoIds.get(alice)!, input: { action: "task_forged", details: { user_id: bob } } },
        { authorization: `Bearer ${tokenFor(alice)}` },
      );
      expect(response.body.errors?.map((error) => error.extensions)).toEqual([
        expect.objectContaining({ code: "BAD_USER_INPUT", field: "input.details.user_id" }),
      ]);
      expect(topic.records().some((record) => cloudEvent(record).type === "todo.task_forged")).toBe(false);
    }),
  );

  it(
    "uses the outbox event id as the CloudEvent id of each todo mutation's event",
    withStackLogs(async () => {
      for (const user of users) {
        for (const node of histories.get(user)!) {
          const record = onlyRecord(node.eventId);
          expect(record.headers["cloudevent.id"]).toBe(node.eventId);
          expect(record.headers["cloudevent.type"]).toBe(`todo.${node.action}`);
          expect(cloudEvent(record)).toMatchObject({
            id: node.eventId,
            type: `todo.${node.action}`,
            data: { event_id: node.eventId, action: node.action },
          });
        }
      }
    }),
  );

  it(
    "carries the snake_case event payload of the contract as the CloudEvent data",
    withStackLogs(async () => {
      for (const user of users) {
        for (const node of histories.get(user)!) {
          const event = cloudEvent(onlyRecord(node.eventId));
          expect(event.datacontenttype).toBe("application/json");
          expect(Object.keys(event.data).sort()).toEqual([
            "action",
            "details",
            "event_id",
            "occurred_at",
            "schema_version",
            "sequence",
            "task_id",
            "user_id",
          ]);
          expect(event.data).toEqual({
            event_id: node.eventId,
            sequence: node.sequence,
            action: node.action,
            task_id: todoIds.get(user),
            user_id: user,
            details: node.details,
            occurred_at: new Date(node.occurredAt as string).toISOString(),
            schema_version: 1,
          });
        }
        // The triggered events' details are the client's own (see the test on the JWT subject).
        const details = Object.fromEntries(
          histories
            .get(user)!
            .filter((node) => node.action !== "task_reviewed")
            .map((node) => [node.action, cloudEvent(onlyRecord(node.eventId)).data.details]),
        );
        expect(details).toEqual({
          task_created: {
            title: `${user}'s groceries`,
            description: "milk",
            priority: "LOW",
            due_at: null,
            completed: false,
          },
          task_updated: { title: "groceries", priority: "HIGH" },
          task_completed: { completed: true },
          task_deleted: { title: "groceries" },
        });
      }
    }),
  );

  it(
    "never puts one user's id on the other user's records",
    withStackLogs(async () => {
      const [aliceRecords, bobRecords] = users.map((user) => records.filter((record) => record.key === user));
      expect(aliceRecords).toHaveLength(6);
      expect(bobRecords).toHaveLength(6);
      for (const record of aliceRecords) expect(JSON.stringify(record)).not.toContain(bob);
      for (const record of bobRecords) expect(JSON.stringify(record)).not.toContain(alice);
    }),
  );

  it(
    "keeps each user's records in the order of the user's event history",
    withStackLogs(async () => {
      expectKafkaOrderOfHistories(records, histories);
    }),
  );
});

describe("the users' sequences in Kafka, for three users mixing createTodo, completeTodo and triggerTodoEvent", () => {
  const sequencedUsers = [1, 2, 3].map((index) => `sequenced-${index}-${run}`);
  const ROUNDS = 3;
  /** Per round: a create, two triggers, then a complete, a trigger and a create at once. */
  const EVENTS_PER_ROUND = 6;
  const histories = new Map<string, HistoryNode[]>();
  let records: readonly KafkaRecord[] = [];

  const trigger = async (user: string, taskId: number, round: number): Promise<void> => {
    const data = await as(user, TriggerTodoEventDocument, {
      taskId,
      input: { action: "task_reviewed", details: { round } },
    });
    expect(data.triggerTodoEvent).toMatchObject({ success: true });
  };

  beforeAll(
    async () => {
      // The users run at once. A trigger right after a mutation waits for the relay to publish the
      // mutation's event first; one with nothing pending publishes itself; and the concurrent
      // requests of one user race a trigger's own publish against the relay's.
      await Promise.all(
        sequencedUsers.map(async (user) => {
          for (let round = 0; round < ROUNDS; round++) {
            const taskId = (await as(user, CreateTodoDocument, { input: { title: `round ${round}` } })).createTodo.id;
            await trigger(user, taskId, round);
            await trigger(user, taskId, round);
            await Promise.all([
              as(user, CompleteTodoDocument, { id: taskId }),
              trigger(user, taskId, round),
              as(user, CreateTodoDocument, { input: { title: `round ${round}, second` } }),
            ]);
          }
        }),
      );
      for (const user of sequencedUsers) {
        histories.set(
          user,
          await waitForHistory(user, (nodes) => nodes.length === ROUNDS * EVENTS_PER_ROUND && allPublished(nodes)),
        );
      }
      const everyEventId = sequencedUsers.flatMap((user) => histories.get(user)!.map((node) => node.eventId));
      records = await topic.waitFor(containsAll(everyEventId), DELIVERY_TIMEOUT_MS);
    },
    2 * DELIVERY_TIMEOUT_MS + 30_000,
  );

  it(
    "numbers each user's events 1, 2, 3, … in the order of the user's log",
    withStackLogs(async () => {
      for (const user of sequencedUsers) {
        const oldestFirst = [...histories.get(user)!].reverse();
        expect(oldestFirst.map((node) => [node.sequence, node.status])).toEqual(
          oneTo(ROUNDS * EVENTS_PER_ROUND).map((sequence) => [sequence, "PUBLISHED"]),
        );
      }
    }),
  );

  it(
    "carries in each record the sequence the user's log gave its event",
    withStackLogs(async () => {
      for (const user of sequencedUsers) {
        const logged = new Map(histories.get(user)!.map((node) => [node.eventId, node.sequence]));
        const own = records.filter((record) => record.key === user);
        expect(own.map((record) => [eventIdOf(record), sequenceOf(record)])).toEqual(
          own.map((record) => [eventIdOf(record), logged.get(eventIdOf(record))]),
        );
      }
    }),
  );

  it(
    "puts each user's sequences on the topic strictly increasing, every one of them once",
    withStackLogs(async () => {
      for (const user of sequencedUsers) {
        expect(kafkaSequencesOf(records, user)).toEqual(oneTo(ROUNDS * EVENTS_PER_ROUND));
      }
    }),
  );
});

describe("a bulk publish through the real sidecar (the relay's path)", () => {
  it(
    "fails only the entry Kafka refuses and delivers the others, each with its own metadata",
    withStackLogs(async () => {
      const publisher = new DaprEventPublisher({
        daprHost: "127.0.0.1",
        daprHttpPort: stack.ports.daprHttp,
        daprApiToken: stack.daprApiToken,
        pubsubName: "kafka-pubsub",
        topic: TOPIC,
        publishTimeoutMs: 20_000,
        logger: silentLogger,
      });
      const eventOf = (userId: string, details: Record<string, unknown>) =>
        todoEventPayload({ action: "task_reviewed", taskId: 1, userId, details });
      const first = eventOf(`bulk-a-${run}`, { note: "first" });
      // Over the producer's 1 MB message limit: Kafka refuses this entry alone.
      const oversized = eventOf(`bulk-b-${run}`, { blob: "x".repeat(1_500_000) });
      const last = eventOf(`bulk-c-${run}`, { note: "last" });

      const outcomes = await publisher.publishBatch([{ event: first }, { event: oversized }, { event: last }]);
      await publisher.close();

      expect(outcomes).toEqual([
        { ok: true },
        { ok: false, reason: "rejected", detail: expect.any(String) },
        { ok: true },
      ]);
      const delivered = await topic.waitFor(containsAll([first.event_id, last.event_id]), DELIVERY_TIMEOUT_MS);
      const counts = countByEventId(delivered);
      expect([counts.get(first.event_id), counts.get(oversized.event_id), counts.get(last.event_id)]).toEqual([
        1,
        undefined,
        1,
      ]);
      for (const event of [first, last]) {
        const record = delivered.find((candidate) => eventIdOf(candidate) === event.event_id)!;
        expect(record.key).toBe(event.user_id);
        expect(record.headers).toMatchObject({ user_id: event.user_id, "cloudevent.type": "todo.task_reviewed" });
        expect(cloudEvent(record).data).toEqual(event);
      }
    }),
    60_000,
  );
});

describe("while the sidecar is down", () => {
  const todoIds = new Map<string, number>();
  const eventIdsBeforeOutage = new Map<string, Set<string>>();
  let failedEventId: string | undefined;
  let failedSequence: number | undefined;
  const drained = new Map<string, HistoryNode[]>();
  let drainedRecords: readonly KafkaRecord[] = [];

  beforeAll(async () => {
    for (const user of users) {
      const data = await as(user, CreateTodoDocument, { input: { title: `${user}'s outage todo` } });
      todoIds.set(user, data.createTodo.id);
      const history = await waitForHistory(user, allPublished);
      expect(allPublished(history)).toBe(true);
      eventIdsBeforeOutage.set(user, new Set(history.map((node) => node.eventId)));
    }
    await stack.stopDaprd();
  }, 60_000);

  it(
    "fails triggerTodoEvent fast with EVENT_PUBLISH_FAILED",
    withStackLogs(async () => {
      const started = performance.now();
      const response = await postGraphQL(
        stack.origin,
        TriggerTodoEventDocument,
        { taskId: todoIds.get(alice)!, input: { action: "task_reviewed", details: { during: "outage" } } },
        { authorization: `Bearer ${tokenFor(alice)}` },
      );
      const elapsedMs = performance.now() - started;
      process.stderr.write(`[e2e] triggerTodoEvent with daprd down answered in ${Math.round(elapsedMs)} ms\n`);

      expect(response.body.data?.triggerTodoEvent ?? null).toBeNull();
      expect(response.body.errors).toHaveLength(1);
      const [error] = response.body.errors!;
      expect(error.message).toBe("Failed to publish event");
      expect(error.extensions?.code).toBe("EVENT_PUBLISH_FAILED");
      expect(elapsedMs).toBeLessThan(2000);
      failedEventId = error.extensions?.eventId as string | undefined;
      expect(failedEventId).toEqual(expect.any(String));
      failedSequence = error.extensions?.sequence as number | undefined;
      expect(failedSequence).toEqual(expect.any(Number));
    }),
  );

  it(
    "logs the failed trigger as FAILED under the sequence its error named",
    withStackLogs(async () => {
      const failed = (await historyOf(alice)).find((node) => node.eventId === failedEventId);
      expect(failed).toMatchObject({ sequence: failedSequence, status: "FAILED", lastError: expect.any(String) });
    }),
  );

  it(
    "still commits todo mutations and keeps their events PENDING",
    withStackLogs(async () => {
      await as(alice, UpdateTodoDocument, { id: todoIds.get(alice)!, input: { description: "during the outage" } });
      await as(alice, CompleteTodoDocument, { id: todoIds.get(alice)! });
      const extra = await as(alice, CreateTodoDocument, { input: { title: "written while daprd is down" } });
      expect(extra.createTodo.id).toEqual(expect.any(Number));
      await as(bob, UpdateTodoDocument, { id: todoIds.get(bob)!, input: { priority: "HIGH" } });
      await as(bob, DeleteTodoDocument, { id: todoIds.get(bob)! });

      for (const [user, count] of [
        [alice, 3],
        [bob, 2],
      ] as const) {
        const newEvents = (nodes: HistoryNode[]): HistoryNode[] =>
          nodes.filter((node) => !eventIdsBeforeOutage.get(user)!.has(node.eventId) && node.eventId !== failedEventId);
        // Wait until the relay has tried (and failed) at least once: the events must stay pending, not vanish.
        const history = await waitForHistory(
          user,
          (nodes) => newEvents(nodes).some((node) => (node.attempts ?? 0) > 0),
          10_000,
        );
        const pending = newEvents(history);
        expect(pending).toHaveLength(count);
        expect(pending.map((node) => node.status)).toEqual(pending.map(() => "PENDING"));
        expect(pending.some((node) => (node.attempts ?? 0) > 0 && node.lastError !== null)).toBe(true);
      }
    }),
  );

  it(
    "drains the outbox into Kafka once the sidecar is back, losing no event",
    withStackLogs(async () => {
      const restartMs = await stack.startDaprd();
      const drainStarted = performance.now();
      const histories = drained;
      // The FAILED trigger stays FAILED: the relay never publishes what a client was told had failed.
      const settled = (nodes: HistoryNode[]): boolean => nodes.every((node) => node.status !== "PENDING");
      for (const user of users) histories.set(user, await waitForHistory(user, settled, 60_000));
      process.stderr.write(
        `[e2e] daprd restarted in ${restartMs} ms; outbox drained ${Math.round(performance.now() - drainStarted)} ms after\n`,
      );
      for (const user of users) {
        expect(histories.get(user)!.map((node) => [node.eventId, node.status])).toEqual(
          histories.get(user)!.map((node) => [node.eventId, node.eventId === failedEventId ? "FAILED" : "PUBLISHED"]),
        );
      }

      // Every logged event of either user: from before (four mutations, two triggers), during and after the outage.
      expect(histories.get(alice)).toHaveLength(6 + 1 + 1 + 3);
      expect(histories.get(bob)).toHaveLength(6 + 1 + 2);
      const everyEventId = users
        .flatMap((user) => histories.get(user)!.map((node) => node.eventId))
        .filter((id) => id !== failedEventId);
      const records = await topic.waitFor(containsAll(everyEventId), DELIVERY_TIMEOUT_MS);
      drainedRecords = records;
      const counts = countByEventId(records);
      const missing = everyEventId.filter((id) => (counts.get(id) ?? 0) === 0);
      expect(missing).toEqual([]);
      const duplicates = [...counts].filter(([, count]) => count > 1);
      if (duplicates.length > 0) process.stderr.write(`[e2e] duplicate deliveries: ${JSON.stringify(duplicates)}\n`);

      // Nothing half-done: the trigger that failed never reached the broker.
      expect(counts.get(failedEventId!) ?? 0).toBe(0);

      const published = new Map(
        [...histories].map(([user, nodes]) => [user, nodes.filter((node) => node.eventId !== failedEventId)]),
      );
      expectKafkaOrderOfHistories(records, published);
    }),
    120_000,
  );

  it(
    "leaves a gap in the user's sequences on the topic only where the log has the FAILED trigger",
    withStackLogs(async () => {
      for (const user of users) {
        const everySequence = oneTo(drained.get(user)!.length);
        const expected =
          user === alice ? everySequence.filter((sequence) => sequence !== failedSequence) : everySequence;
        const firstDeliveries = [...new Set(kafkaSequencesOf(drainedRecords, user))];
        expect(firstDeliveries).toEqual(expected);
      }
    }),
  );
});
