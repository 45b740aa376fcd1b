/**
 * The way back: Kafka → daprd's declarative subscription →
 * POST /dapr/todo-events → the per-user GraphQL subscription; forged
 * deliveries; and the dead-letter topic for events the app drops.
 */
import { randomUUID } from "node:crypto";
import {
  CreateTodoDocument,
  CompleteTodoDocument,
  TodoEventHistoryDocument,
  TriggerTodoEventDocument,
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
import { TopicReader } from "../stack/kafka";
import { startStack, STACK_START_TIMEOUT_MS, STACK_STOP_TIMEOUT_MS, type Stack } from "../stack/stack";

const DELIVERY_TIMEOUT_MS = 30_000;
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
    const deadLetters = await TopicReader.start(stack.brokers, "todo-events-dlq");
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
