/**
 * The way back: Kafka → daprd's declarative subscription →
 * POST /dapr/todo-events → the per-user GraphQL subscription; a subscription
 * resumed from the event log after an API restart and after a daprd crash;
 * forged deliveries; and the dead-letter topic for events the app drops. Records read back from
 * Kafka are validated against schema/asyncapi.yaml.
 */
import { randomUUID } from "node:crypto";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { parse } from "graphql";
import {
  CreateTodoDocument,
  CompleteTodoDocument,
  DeleteTodoDocument,
  TodoEventHistoryDocument,
  TriggerTodoEventDocument,
  type TodoEventHistoryQueryVariables,
  type TodoEventStatus,
} from "../generated/graphql";
import {
  collectTodoEvents,
  deliver,
  cloudEventFor,
  eventFor,
  subscriptionClient,
  waitFor,
} from "../support/deliveries";
import { asUser, postGraphQL } from "../support/test-server";
import { tokenFor } from "../support/tokens";
import { readDeadLetters, readTodoEvents } from "../support/event-contract";
import { startStack, STACK_START_TIMEOUT_MS, STACK_STOP_TIMEOUT_MS, type Stack } from "../stack/stack";

const DELIVERY_TIMEOUT_MS = 30_000;
const run = randomUUID().slice(0, 8);
let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
}, STACK_START_TIMEOUT_MS);

afterAll(async () => {
  await stack?.stop();
}, STACK_STOP_TIMEOUT_MS);

async function as<TData, TVariables>(
  userId: string,
  document: Parameters<typeof postGraphQL<TData, TVariables>>[1],
  variables: TVariables,
) {
  const response = await postGraphQL(stack.origin, document, variables, asUser(userId));
  if (response.body.errors !== undefined || response.body.data == null) {
    throw new Error(`request as ${userId} failed: HTTP ${response.status} ${JSON.stringify(response.body.errors)}`);
  }
  return response.body.data;
}

/** What a resuming client keeps of each event: where it stands in the user's log. */
interface SequencedEvent {
  readonly eventId: string;
  readonly sequence: number;
  readonly status: TodoEventStatus;
}

interface LoggedEvent extends SequencedEvent {
  readonly attempts: number;
}

const EventLogDocument: TypedDocumentNode<
  { todoEvents: { edges: { node: LoggedEvent }[] } },
  TodoEventHistoryQueryVariables
> = parse(
  "query EventLog($first: Int) { todoEvents(first: $first) { edges { node { eventId sequence status attempts } } } }",
);

/** The user's event log, oldest first. */
async function logOf(userId: string): Promise<LoggedEvent[]> {
  const data = await as(userId, EventLogDocument, { first: 100 });
  return data.todoEvents.edges.map((edge) => edge.node).reverse();
}

/** What a subscriber is sent of a logged event. */
const asSent = ({ eventId, sequence, status }: LoggedEvent): SequencedEvent => ({ eventId, sequence, status });

async function waitForLog(
  userId: string,
  done: (log: LoggedEvent[]) => boolean,
  timeoutMs = DELIVERY_TIMEOUT_MS,
): Promise<LoggedEvent[]> {
  const deadline = Date.now() + timeoutMs;
  let log = await logOf(userId);
  while (!done(log) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    log = await logOf(userId);
  }
  return log;
}

const allPublished = (log: LoggedEvent[]): boolean => log.every((event) => event.status === "PUBLISHED");

/** A `todoEvents` subscription of `userId`; with `afterSequence` it first replays the log after it. */
function subscribeAs(userId: string, afterSequence?: number) {
  const { client, closed } = subscriptionClient(stack.origin, `Bearer ${tokenFor(userId)}`);
  const events: SequencedEvent[] = [];
  const errors: unknown[] = [];
  client.subscribe<{ todoEvents: SequencedEvent }>(
    {
      query:
        "subscription Resume($afterSequence: Int) { todoEvents(afterSequence: $afterSequence) { eventId sequence status } }",
      variables: { afterSequence: afterSequence ?? null },
    },
    {
      next: (result) => {
        if (result.errors !== undefined) errors.push(...result.errors);
        if (result.data) events.push(result.data.todoEvents);
      },
      error: (error) => errors.push(error),
      complete: () => undefined,
    },
  );
  return { events, errors, closed, close: () => client.dispose() };
}

/** Waits for `check`, then lets the assertions after it say what is missing. */
const settle = (check: () => boolean, timeoutMs = DELIVERY_TIMEOUT_MS): Promise<void> =>
  waitFor(check, timeoutMs).catch(() => undefined);

/** Long enough for a late duplicate to arrive if one were coming. */
const quietPeriod = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 1000));

/** Subscribes as `userId` and waits until a first event of theirs has come all the way round. */
async function liveSubscriber(userId: string) {
  const { client } = subscriptionClient(stack.origin, `Bearer ${tokenFor(userId)}`);
  const feed = collectTodoEvents(client);
  // daprd's consumer group starts at the newest offset: publish until one arrives, proving the loop is live.
  let warmUpTask = 0;
  const deadline = Date.now() + DELIVERY_TIMEOUT_MS;
  while (feed.events.length === 0) {
    if (Date.now() > deadline)
      throw new Error(`no event reached ${userId}'s subscription in ${DELIVERY_TIMEOUT_MS} ms`);
    warmUpTask = (await as(userId, CreateTodoDocument, { input: { title: "warm-up" } })).createTodo.id;
    await waitFor(() => feed.events.length > 0, 3000).catch(() => undefined);
  }
  return { client, feed, warmUpTask, close: async () => (feed.dispose(), await client.dispose()) };
}

it(
  "delivers a user's own events to their subscription in order, and never another user's",
  async () => {
    const alice = await liveSubscriber("e2e-alice");
    const bob = await liveSubscriber("e2e-bob");
    try {
      const before = { alice: alice.feed.events.length, bob: bob.feed.events.length };
      const todo = (await as("e2e-alice", CreateTodoDocument, { input: { title: "seen live" } })).createTodo.id;
      await as("e2e-bob", CreateTodoDocument, { input: { title: "bob's" } });
      await as("e2e-alice", CompleteTodoDocument, { id: todo });
      const triggered = await as("e2e-alice", TriggerTodoEventDocument, {
        taskId: todo,
        input: { action: "task_reviewed" },
      });

      await waitFor(
        () => alice.feed.events.length >= before.alice + 3 && bob.feed.events.length >= before.bob + 1,
        DELIVERY_TIMEOUT_MS,
      );
      await new Promise((resolve) => setTimeout(resolve, 500));

      const history = (await as("e2e-alice", TodoEventHistoryDocument, { first: 100 })).todoEvents.edges.map(
        (edge) => edge.node,
      );
      const outboxIds = history
        .filter((node) => node.taskId === todo)
        .map((node) => node.eventId)
        .reverse();
      const liveForTodo = alice.feed.events.slice(before.alice).map((event) => event.eventId);
      expect(liveForTodo.filter((id) => outboxIds.includes(id as string))).toEqual(outboxIds);
      expect(liveForTodo).toContain(triggered.triggerTodoEvent.eventId);
      const alicesIds = new Set(alice.feed.events.map((event) => event.eventId));
      expect(bob.feed.events.some((event) => alicesIds.has(event.eventId))).toBe(false);
      expect(alice.feed.errors).toEqual([]);
    } finally {
      await alice.close();
      await bob.close();
    }
  },
  DELIVERY_TIMEOUT_MS * 3,
);

it(
  "resumes after an API restart with exactly the events the subscriber missed, in order, then the live ones",
  async () => {
    const user = `resume-api-${run}`;
    const before = subscribeAs(user, 0);
    let resumed: ReturnType<typeof subscribeAs> | undefined;
    try {
      const first = (await as(user, CreateTodoDocument, { input: { title: "before the restart" } })).createTodo.id;
      await as(user, TriggerTodoEventDocument, { taskId: first, input: { action: "task_reviewed" } });
      await as(user, CompleteTodoDocument, { id: first });
      await settle(() => before.events.length >= 3);
      expect(before.events.map((event) => event.sequence)).toEqual([1, 2, 3]);
      const lastSeen = before.events[before.events.length - 1].sequence;

      const shutdown = await stack.stopApi();
      expect(shutdown.code).toBe(0);
      await before.closed;
      await stack.startApi();

      // Committed while the client is away: only the log has them for it now.
      const second = (await as(user, CreateTodoDocument, { input: { title: "after the restart" } })).createTodo.id;
      await as(user, TriggerTodoEventDocument, { taskId: second, input: { action: "task_reviewed" } });
      await as(user, CompleteTodoDocument, { id: second });
      const missed = (await waitForLog(user, (log) => log.length === 6 && allPublished(log))).slice(lastSeen);
      expect(missed.map((event) => [event.sequence, event.status])).toEqual([
        [4, "PUBLISHED"],
        [5, "PUBLISHED"],
        [6, "PUBLISHED"],
      ]);

      resumed = subscribeAs(user, lastSeen);
      const replay = resumed;
      await settle(() => replay.events.length >= missed.length);
      expect(resumed.events).toEqual(missed.map(asSent));

      await as(user, TriggerTodoEventDocument, { taskId: second, input: { action: "task_reviewed" } });
      await as(user, DeleteTodoDocument, { id: second });
      const log = await waitForLog(user, (entries) => entries.length === 8 && allPublished(entries));
      await settle(() => replay.events.length >= 5);
      await quietPeriod();
      expect(resumed.events).toEqual(log.slice(lastSeen).map(asSent));
      expect(resumed.events.map((event) => event.sequence)).toEqual([4, 5, 6, 7, 8]);
      expect(resumed.errors).toEqual([]);
    } finally {
      await before.close();
      await resumed?.close();
    }
  },
  DELIVERY_TIMEOUT_MS * 4,
);

it(
  "resumes across a daprd crash: what was committed meanwhile is replayed as PENDING, published once daprd is back, and none is missed or repeated",
  async () => {
    const user = `resume-daprd-${run}`;
    const topic = await readTodoEvents(stack.brokers);
    const before = subscribeAs(user, 0);
    let resumed: ReturnType<typeof subscribeAs> | undefined;
    try {
      const first = (await as(user, CreateTodoDocument, { input: { title: "before the crash" } })).createTodo.id;
      await as(user, TriggerTodoEventDocument, { taskId: first, input: { action: "task_reviewed" } });
      await settle(() => before.events.length >= 2);
      // Live, or replayed (PENDING while still being published) when the subscribe reached the API late.
      expect(before.events.map((event) => event.sequence)).toEqual([1, 2]);
      const lastSeen = before.events[before.events.length - 1].sequence;

      // The client loses its connection as the sidecar crashes.
      await stack.killDaprd();
      await before.close();

      await as(user, CompleteTodoDocument, { id: first });
      const second = (await as(user, CreateTodoDocument, { input: { title: "during the crash" } })).createTodo.id;
      await as(user, DeleteTodoDocument, { id: second });
      // Once the relay has tried and failed, the events still wait in the log: they do not vanish.
      const during = await waitForLog(user, (log) => log.length === 5 && log[lastSeen].attempts > 0, 10_000);
      expect(during.slice(lastSeen).map((event) => [event.sequence, event.status])).toEqual([
        [3, "PENDING"],
        [4, "PENDING"],
        [5, "PENDING"],
      ]);

      resumed = subscribeAs(user, lastSeen);
      const replay = resumed;
      await settle(() => replay.events.length >= 3);
      expect(resumed.events).toEqual(during.slice(lastSeen).map(asSent));

      await stack.startDaprd();
      const published = await waitForLog(user, (log) => log.length === 5 && allPublished(log), 60_000);
      expect(published.map((event) => event.status)).toEqual(published.map(() => "PUBLISHED"));

      await as(user, TriggerTodoEventDocument, { taskId: first, input: { action: "task_reviewed" } });
      const third = (await as(user, CreateTodoDocument, { input: { title: "after the crash" } })).createTodo.id;
      expect(third).toEqual(expect.any(Number));
      const log = await waitForLog(user, (entries) => entries.length === 7 && allPublished(entries));
      await settle(() => replay.events.length >= 5);
      await quietPeriod();
      // Replayed while pending, then live; a live copy of a replayed event would repeat its sequence.
      expect(resumed.events.map((event) => [event.sequence, event.eventId, event.status])).toEqual([
        ...during.slice(lastSeen).map((event) => [event.sequence, event.eventId, "PENDING"]),
        ...log.slice(5).map((event) => [event.sequence, event.eventId, "PUBLISHED"]),
      ]);
      expect(resumed.errors).toEqual([]);

      const records = await topic.waitFor(
        (all) => all.filter((record) => record.key === user).length >= log.length,
        DELIVERY_TIMEOUT_MS,
      );
      // At least once: a repeated event id is a duplicate, not a reorder.
      const firstDeliveries = new Map<string, number>();
      for (const record of records.filter((candidate) => candidate.key === user)) {
        const { id, data } = record.value as { id: string; data: { sequence: number } };
        if (!firstDeliveries.has(id)) firstDeliveries.set(id, data.sequence);
      }
      expect([...firstDeliveries.values()]).toEqual([1, 2, 3, 4, 5, 6, 7]);
    } finally {
      await before.close();
      await resumed?.close();
      await topic.close();
    }
  },
  DELIVERY_TIMEOUT_MS * 5,
);

it(
  "refuses a forged delivery without the app token, and it reaches no subscriber",
  async () => {
    const victim = await liveSubscriber("e2e-victim");
    try {
      const before = victim.feed.events.length;
      const forged = cloudEventFor(eventFor("e2e-victim", victim.warmUpTask, "task_deleted"));

      const withoutToken = await deliver(stack.origin, forged);
      const withWrongToken = await deliver(stack.origin, forged, { "dapr-api-token": "guessed" });
      await new Promise((resolve) => setTimeout(resolve, 1000));

      expect([withoutToken.status, withWrongToken.status]).toEqual([401, 401]);
      expect(victim.feed.events.length).toBe(before);
    } finally {
      await victim.close();
    }
  },
  DELIVERY_TIMEOUT_MS * 2,
);

it(
  "sends an event the app drops (malformed) to todo-events-dlq",
  async () => {
    const deadLetters = await readDeadLetters(stack.brokers);
    try {
      const marker = randomUUID();
      // Straight to the sidecar's publish API, as a misbehaving producer would: no user_id, no action.
      const response = await fetch(
        `http://127.0.0.1:${stack.ports.daprHttp}/v1.0/publish/kafka-pubsub/todo-events?metadata.cloudevent.id=${marker}`,
        {
          method: "POST",
          headers: { "content-type": "application/json", "dapr-api-token": stack.daprApiToken },
          body: JSON.stringify({ marker, note: "not a todo event" }),
        },
      );
      expect(response.status).toBe(204);

      const records = await deadLetters.waitFor(
        (all) => all.some((record) => JSON.stringify(record.value).includes(marker)),
        DELIVERY_TIMEOUT_MS,
      );
      const dropped = records.find((record) => JSON.stringify(record.value).includes(marker))!;
      expect((dropped.value as { data: unknown }).data).toEqual({ marker, note: "not a todo event" });
    } finally {
      await deadLetters.close();
    }
  },
  DELIVERY_TIMEOUT_MS * 2,
);
