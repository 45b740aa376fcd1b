/**
 * Scale-out on one machine: PostgreSQL, Kafka, and several
 * API instances each with its own daprd. Every event is published once in
 * normal operation, each user's order holds across instances, a subscriber
 * on one instance sees events caused through another, and stopping or
 * killing instances (the relay leader included) loses nothing.
 */
import { CompleteTodoDocument, CreateTodoDocument } from "../generated/graphql";
import { collectTodoEvents, subscriptionClient, waitFor } from "../support/deliveries";
import { asUser, postGraphQL } from "../support/test-server";
import { tokenFor } from "../support/tokens";
import { startTempPostgres, stopAll, type TempPostgres } from "../stack/postgres";
import {
  startStack,
  STACK_START_TIMEOUT_MS,
  STACK_STOP_TIMEOUT_MS,
  type Stack,
  type StackInstance,
} from "../stack/stack";
import { audit, historyOf, kafkaRecordsFor } from "../faults/support/audit";
import { MutationLoad, type Acknowledged } from "../faults/support/mutation-load";

const TEST_TIMEOUT_MS = 5 * 60_000;
const UNLIMITED = { RATE_LIMIT_PER_MINUTE: "0" };

let stack: Stack;
let second: StackInstance;
let postgres: TempPostgres;

beforeAll(async () => {
  postgres = startTempPostgres("todo-scale-pg");
  stack = await startStack({ databaseUrl: postgres.url, apiEnv: UNLIMITED });
  second = await stack.addInstance();
}, STACK_START_TIMEOUT_MS);

afterAll(() => stopAll(stack, postgres), STACK_STOP_TIMEOUT_MS);

async function pending(origin: string): Promise<number> {
  const body = (await (await fetch(`${origin}/readyz`)).json()) as { checks: { outbox: { pending: number } } };
  return body.checks.outbox.pending;
}

async function drained(origin: string, timeoutMs = 60_000): Promise<number> {
  const from = Date.now();
  const deadline = from + timeoutMs;
  while ((await pending(origin).catch(() => 1)) > 0) {
    if (Date.now() > deadline) throw new Error("the outbox did not drain");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return Date.now() - from;
}

it(
  "publishes each event once, in order per user, whichever instance took the mutation",
  async () => {
    const users = ["sc-1", "sc-2", "sc-3", "sc-4"];
    const origins = [stack.origin, second.origin];
    const acknowledged: Acknowledged[] = [];
    await Promise.all(
      users.map(async (userId, userIndex) => {
        for (let round = 0; round < 15; round += 1) {
          // Alternate instances within one user's sequence: create on one, complete on the other.
          const createVia = origins[(round + userIndex) % 2];
          const completeVia = origins[(round + userIndex + 1) % 2];
          const created = await postGraphQL(
            createVia,
            CreateTodoDocument,
            { input: { title: `r${round}` } },
            asUser(userId),
          );
          const taskId = created.body.data!.createTodo.id;
          acknowledged.push({ userId, action: "task_created", taskId });
          await postGraphQL(completeVia, CompleteTodoDocument, { id: taskId }, asUser(userId));
          acknowledged.push({ userId, action: "task_completed", taskId });
        }
      }),
    );
    await drained(stack.origin);

    const report = await audit(
      stack.origin,
      users,
      acknowledged,
      await kafkaRecordsFor(stack.origin, stack.brokers, users),
    );
    process.stderr.write(`[scale] normal operation ${JSON.stringify(report)}\n`);

    expect(report).toMatchObject({
      acknowledged: 120,
      recorded: 120,
      delivered: 120,
      lost: 0,
      duplicates: 0,
      orderViolations: 0,
    });
  },
  TEST_TIMEOUT_MS,
);

it(
  "delivers to a subscriber on instance 1 the events its user caused through instance 2",
  async () => {
    const { client } = subscriptionClient(stack.origin, `Bearer ${tokenFor("sc-watch")}`);
    const feed = collectTodoEvents(client);
    try {
      await new Promise((resolve) => setTimeout(resolve, 300)); // let the subscription register
      const ids: number[] = [];
      for (let round = 0; round < 5; round += 1) {
        const created = await postGraphQL(
          second.origin,
          CreateTodoDocument,
          { input: { title: `seen ${round}` } },
          asUser("sc-watch"),
        );
        ids.push(created.body.data!.createTodo.id);
      }
      await waitFor(() => feed.events.length >= 5, 30_000);

      const history = (await historyOf(stack.origin, "sc-watch")).map((event) => event.eventId);
      expect(feed.events.map((event) => event.eventId)).toEqual(history);
      expect(feed.events.map((event) => event.taskId)).toEqual(ids);
    } finally {
      feed.dispose();
      await client.dispose();
    }
  },
  TEST_TIMEOUT_MS,
);

it(
  "loses nothing when one instance stops gracefully and the relay leader is killed",
  async () => {
    const third = await stack.addInstance();
    const loads = [
      new MutationLoad(stack.origin, ["fo-1", "fo-2"]),
      new MutationLoad(second.origin, ["fo-3", "fo-4"]),
      new MutationLoad(third.origin, ["fo-5", "fo-6"]),
    ];
    const progress = () => loads.reduce((sum, load) => sum + load.acknowledgedCount, 0);
    await waitFor(() => progress() >= 60, 60_000);

    const graceful = await third.stopApi();
    // Instance 1 started first and holds the relay lock: kill it and let a standby take over.
    await stack.killApi();
    const killedAt = Date.now();
    const before = loads[1].acknowledgedCount;
    await waitFor(() => loads[1].acknowledgedCount >= before + 20, 60_000);
    const results = await Promise.all(loads.map((load) => load.stop()));
    const failoverMs = Date.now() - killedAt + (await drained(second.origin));
    await stack.startApi();

    const users = loads.flatMap((load) => load.users);
    const acknowledged = results.flatMap((result) => result.acknowledged);
    const report = await audit(
      second.origin,
      users,
      acknowledged,
      await kafkaRecordsFor(second.origin, stack.brokers, users),
    );
    process.stderr.write(`[scale] failover ${JSON.stringify({ ...report, graceful, failoverMs })}\n`);

    expect(graceful.code).toBe(0);
    expect(report).toMatchObject({ lost: 0, orderViolations: 0, acknowledgedWithoutEvent: 0, todosWithoutEvent: 0 });
    expect(report.delivered).toBe(report.recorded);
  },
  TEST_TIMEOUT_MS,
);
