/**
 * `todoEvents(afterSequence:)` over graphql-ws against the real server: a client that reconnects
 * with the last sequence it saw gets every event it missed, in order, then live ones, with no gap
 * and no duplicate at the switch. No daprd here: a forwarder delivers what the in-memory publisher
 * records back to every instance, as the sidecar would.
 */
import type { GraphQLFormattedError } from "graphql";
import { OutboxRepository } from "../../../src/events/log/outbox.repository";
import { CompleteTodoDocument, TriggerTodoEventDocument, UpdateTodoDocument } from "../../generated/graphql";
import { openTestDatabase, type TestDatabase } from "../../support/databases";
import { waitFor } from "../../support/deliveries";
import { forwardDeliveries, type DeliveryForwarder } from "../../support/delivery-forwarder";
import { openSocket } from "../../support/graphql-ws-client";
import { InMemoryEventPublisher } from "../../support/in-memory-event-publisher";
import { asUser, createTodoAs, postGraphQL, startTestServer, type TestServer } from "../../support/test-server";
import { tokenFor } from "../../support/tokens";

interface ReceivedEvent {
  readonly eventId: string;
  readonly sequence: number;
  readonly status: string;
}

interface Feed {
  /** What the client received, in arrival order, until it stopped listening. */
  readonly events: ReceivedEvent[];
  readonly errors: GraphQLFormattedError[];
  /** How the operation ended before the client stopped it (complete, or the socket closing), if it did. */
  readonly ended: string[];
  /** The last sequence received: what a client passes as afterSequence when it reconnects. */
  lastSequence(): number;
  /** The client disconnects: unsubscribes and closes the socket; nothing arriving later counts as received. */
  stop(): Promise<void>;
}

/** What a test left open (sockets, a held broker), undone after it whether it passed or not. */
const cleanups: (() => void | Promise<void>)[] = [];

async function cleanUp(): Promise<void> {
  for (let cleanup = cleanups.pop(); cleanup !== undefined; cleanup = cleanups.pop()) await cleanup();
}

/** The broker stops taking events until the test ends or calls the returned function. */
function holdBroker(server: TestServer): () => void {
  const release = server.publisher.hold();
  cleanups.push(release);
  return release;
}

const FIELDS = "eventId sequence status";
const LIVE = `subscription { todoEvents { ${FIELDS} } }`;
const RESUMED = `subscription ($afterSequence: Int) { todoEvents(afterSequence: $afterSequence) { ${FIELDS} } }`;

/** A graphql-ws client subscribed to `todoEvents` as `userId`: live only without `afterSequence`. */
function subscribeAs(server: TestServer, userId: string, afterSequence?: number): Feed {
  const socket = openSocket(server.origin, `Bearer ${tokenFor(userId)}`);
  const events: ReceivedEvent[] = [];
  const errors: GraphQLFormattedError[] = [];
  const ended: string[] = [];
  let listening = true;
  const unsubscribe = socket.subscribe(
    afterSequence === undefined ? LIVE : RESUMED,
    afterSequence === undefined ? undefined : { afterSequence },
    (event) => {
      if (!listening) return;
      switch (event.type) {
        case "next":
          errors.push(...(event.result.errors ?? []));
          if (event.result.data) events.push((event.result.data as { todoEvents: ReceivedEvent }).todoEvents);
          return;
        case "error":
          errors.push(...event.errors);
          return;
        case "complete":
          ended.push("complete");
          return;
        case "closed":
          ended.push(`closed ${event.closed.code} ${event.closed.reason}`);
          return;
      }
    },
  );
  const stop = async (): Promise<void> => {
    if (!listening) return;
    listening = false;
    unsubscribe();
    await socket.dispose();
  };
  cleanups.push(stop);
  return { events, errors, ended, lastSequence: () => events.at(-1)?.sequence ?? 0, stop };
}

/** Commits one event for a user per call, cycling create, trigger, update, complete (one todo per cycle). */
class EventWriter {
  private step = 0;
  private todoId = 0;
  /** Events committed so far (their sequences are 1..committed for a fresh user). */
  committed = 0;

  constructor(private readonly userId: string) {}

  async commit(server: TestServer): Promise<void> {
    const headers = asUser(this.userId);
    const id = this.todoId;
    switch (this.step++ % 4) {
      case 0:
        this.todoId = await createTodoAs(server.origin, this.userId, `todo ${this.step}`);
        break;
      case 1: {
        const input = { action: "note.added", details: { step: this.step } };
        expectNoErrors(await postGraphQL(server.origin, TriggerTodoEventDocument, { taskId: id, input }, headers));
        break;
      }
      case 2:
        expectNoErrors(
          await postGraphQL(server.origin, UpdateTodoDocument, { id, input: { title: "renamed" } }, headers),
        );
        break;
      default:
        expectNoErrors(await postGraphQL(server.origin, CompleteTodoDocument, { id }, headers));
    }
    this.committed += 1;
  }

  async commitMany(server: TestServer, count: number): Promise<void> {
    for (let i = 0; i < count; i += 1) await this.commit(server);
  }
}

function expectNoErrors(response: { body: { errors?: readonly GraphQLFormattedError[] } }): void {
  if (response.body.errors !== undefined) throw new Error(`mutation failed: ${JSON.stringify(response.body.errors)}`);
}

/** The user's logged events in sequence order, as the subscriber should see them. */
async function loggedEvents(database: TestDatabase, userId: string): Promise<{ eventId: string; sequence: number }[]> {
  const rows = await database.db
    .selectFrom("outbox")
    .select(["event_id", "sequence"])
    .where("user_id", "=", userId)
    .orderBy("sequence")
    .execute();
  return rows.map((row) => ({ eventId: row.event_id, sequence: Number(row.sequence) }));
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Every event of the user is published and has been delivered to every instance. */
async function settled(database: TestDatabase, forwarder: DeliveryForwarder, userId: string): Promise<void> {
  const log = new OutboxRepository(database.dialect);
  await eventually(async () => !(await log.hasPending(database.db, userId)));
  await forwarder.drained();
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const sequencesOf = (feed: Feed): number[] => feed.events.map((event) => event.sequence);

/** One server on its own database, with the forwarder playing its sidecar. */
async function startWithForwarder(): Promise<{
  server: TestServer;
  database: TestDatabase;
  forwarder: DeliveryForwarder;
}> {
  const database = await openTestDatabase("sqlite");
  const server = await startTestServer({ database });
  return { server, database, forwarder: forwardDeliveries(server.publisher, [server.origin]) };
}

describe("todoEvents(afterSequence) on SQLite", () => {
  let server: TestServer;
  let database: TestDatabase;
  let forwarder: DeliveryForwarder;
  beforeAll(async () => {
    ({ server, database, forwarder } = await startWithForwarder());
  });
  afterEach(async () => {
    await cleanUp();
    // Tests wait for their own subscriptions to be open by counting them; none may linger into the next.
    await subscriptionsOpen(0);
    expect(forwarder.failures).toEqual([]);
  });
  afterAll(async () => {
    await forwarder.stop();
    await server.stop();
    await database.dispose();
  });

  const subscriptionsOpen = (count: number) =>
    waitFor(() => server.app.services.todoEventFeed.activeSubscriptions === count);

  it("replays exactly the events missed while disconnected, in order, then continues live", async () => {
    const user = "resume-alice";
    const writer = new EventWriter(user);
    const first = subscribeAs(server, user);
    await subscriptionsOpen(1);
    await writer.commitMany(server, 3);
    await waitFor(() => first.events.length === 3);
    await first.stop();

    // Missed: every kind of event, all published and delivered while no one listened.
    await writer.commitMany(server, 8);
    await settled(database, forwarder, user);
    const resumed = subscribeAs(server, user, first.lastSequence());
    await waitFor(() => resumed.events.length === 8);
    await writer.commitMany(server, 2);
    await waitFor(() => resumed.lastSequence() === 13);

    const logged = await loggedEvents(database, user);
    expect(sequencesOf(first)).toEqual([1, 2, 3]);
    expect(resumed.events).toEqual(logged.slice(3).map((event) => ({ ...event, status: "PUBLISHED" })));
    expect(sequencesOf(resumed)).toEqual(range(4, 13));
    expect([...first.errors, ...resumed.errors, ...first.ended, ...resumed.ended]).toEqual([]);
  });

  it("loses and repeats nothing when events keep committing while the subscriber reconnects", async () => {
    for (let iteration = 0; iteration < 20; iteration += 1) {
      const user = `switch-${iteration}`;
      const writer = new EventWriter(user);
      let writing = true;
      const writes = (async () => {
        while (writing) await writer.commit(server);
      })();
      cleanups.push(async () => {
        writing = false;
        await writes;
      });
      // afterSequence 0 from the start: what commits before the subscription is open is replayed.
      const first = subscribeAs(server, user, 0);
      // A different switch point each round, so that it meets replayed, pending and live events.
      await waitFor(() => first.events.length >= 1 + (iteration % 6));
      await first.stop();
      const committedAtSwitch = writer.committed;
      const second = subscribeAs(server, user, first.lastSequence());
      // The writer runs on past the switch, overlapping the replay and the join of the live feed.
      await waitFor(() => writer.committed >= committedAtSwitch + 4 && second.events.length >= 2);
      writing = false;
      await writes;
      // A last event once everything else was delivered: anything repeated would arrive before it.
      await settled(database, forwarder, user);
      await writer.commit(server);
      await waitFor(() => second.lastSequence() === writer.committed);

      expect({ iteration, received: [...sequencesOf(first), ...sequencesOf(second)] }).toEqual({
        iteration,
        received: range(1, writer.committed),
      });
      expect([...first.errors, ...second.errors, ...first.ended, ...second.ended]).toEqual([]);
      await cleanUp();
    }
  }, 20_000);

  it("is live only without afterSequence: nothing logged before it is replayed", async () => {
    const user = "live-carol";
    const writer = new EventWriter(user);
    await writer.commitMany(server, 2);
    await settled(database, forwarder, user);
    const feed = subscribeAs(server, user);
    await subscriptionsOpen(1);
    await writer.commitMany(server, 2);
    await waitFor(() => feed.lastSequence() === 4);

    expect(sequencesOf(feed)).toEqual([3, 4]);
    expect(feed.errors).toEqual([]);
  });

  it("shows each replayed event's status: PUBLISHED once published, PENDING while still waiting", async () => {
    const user = "status-erin";
    const todoId = await createTodoAs(server.origin, user);
    await settled(database, forwarder, user);
    const releaseBroker = holdBroker(server);
    // A mutation rather than a trigger: a trigger would wait for the held publish before answering.
    const input = { title: "while the broker is away" };
    expectNoErrors(await postGraphQL(server.origin, UpdateTodoDocument, { id: todoId, input }, asUser(user)));
    const feed = subscribeAs(server, user, 0);
    await waitFor(() => feed.events.length === 2);
    // Once published, the pending event also comes back live: the subscriber already has it.
    releaseBroker();
    await settled(database, forwarder, user);
    await createTodoAs(server.origin, user);
    await waitFor(() => feed.lastSequence() === 3);

    expect(feed.events.map(({ sequence, status }) => ({ sequence, status }))).toEqual([
      { sequence: 1, status: "PUBLISHED" },
      { sequence: 2, status: "PENDING" },
      { sequence: 3, status: "PUBLISHED" },
    ]);
    expect(feed.errors).toEqual([]);
  });

  it("refuses a negative afterSequence with BAD_USER_INPUT", async () => {
    const feed = subscribeAs(server, "negative-frank", -1);
    await waitFor(() => feed.errors.length > 0);

    expect(feed.errors.map((error) => error.extensions?.code)).toEqual(["BAD_USER_INPUT"]);
    expect(feed.events).toEqual([]);
  });
});

describe("todoEvents(afterSequence) after retention pruned the log", () => {
  // Its own database: pruning removes every user's published rows.
  let server: TestServer;
  let database: TestDatabase;
  let forwarder: DeliveryForwarder;
  const user = "pruned-grace";
  beforeAll(async () => {
    ({ server, database, forwarder } = await startWithForwarder());
    await new EventWriter(user).commitMany(server, 3);
    await settled(database, forwarder, user);
    // Retention as it runs, with a cut-off after every row: all three are published, so all go.
    const pruned = await new OutboxRepository(database.dialect).prune(database.db, new Date(Date.now() + 60_000), 1000);
    if (pruned !== 3) throw new Error(`expected to prune 3 rows, pruned ${pruned}`);
  });
  afterEach(cleanUp);
  afterAll(async () => {
    await forwarder.stop();
    await server.stop();
    await database.dispose();
  });

  it("answers CURSOR_EXPIRED for an afterSequence older than the retained log", async () => {
    const feed = subscribeAs(server, user, 0);
    await waitFor(() => feed.errors.length > 0);

    expect(feed.errors.map((error) => error.extensions?.code)).toEqual(["CURSOR_EXPIRED"]);
    expect(feed.events).toEqual([]);
  });

  it("resumes from the last pruned sequence itself: the client missed nothing", async () => {
    const feed = subscribeAs(server, user, 3);
    await waitFor(() => server.app.services.todoEventFeed.activeSubscriptions === 1);
    await new EventWriter(user).commit(server);
    await waitFor(() => feed.events.length === 1);

    expect(sequencesOf(feed)).toEqual([4]);
    expect(feed.errors).toEqual([]);
  });
});

describe("todoEvents(afterSequence) with two instances on one PostgreSQL database", () => {
  let database: TestDatabase;
  let first: TestServer;
  let second: TestServer;
  let forwarder: DeliveryForwarder;
  beforeAll(async () => {
    database = await openTestDatabase("postgres");
    // One publisher for both: the one topic, in the order events were published from either instance.
    const publisher = new InMemoryEventPublisher();
    first = await startTestServer({ database, publisher });
    second = await startTestServer({ database, publisher });
    forwarder = forwardDeliveries(publisher, [first.origin, second.origin]);
  });
  afterEach(cleanUp);
  afterAll(async () => {
    await forwarder.stop();
    await first.stop();
    await second.stop();
    await database.dispose();
  });

  it("replays in order the missed events committed through either instance", async () => {
    const user = "cluster-heidi";
    const writer = new EventWriter(user);
    const before = subscribeAs(first, user);
    await waitFor(() => first.app.services.todoEventFeed.activeSubscriptions === 1);
    await writer.commitMany(first, 2);
    await waitFor(() => before.events.length === 2);
    await before.stop();

    for (let i = 0; i < 8; i += 1) await writer.commit(i % 2 === 0 ? second : first);
    await settled(database, forwarder, user);
    const resumed = subscribeAs(first, user, before.lastSequence());
    await waitFor(() => resumed.events.length === 8);
    await writer.commit(second);
    await waitFor(() => resumed.lastSequence() === 11);

    const logged = await loggedEvents(database, user);
    expect(logged.map((event) => event.sequence)).toEqual(range(1, 11));
    expect(resumed.events).toEqual(logged.slice(2).map((event) => ({ ...event, status: "PUBLISHED" })));
    expect([...resumed.errors, ...resumed.ended]).toEqual([]);
    expect(forwarder.failures).toEqual([]);
  });
});

// Cases that once repeated events: a live copy at or below the cursor is dropped.
describe("a resumed subscription never repeats what the client already has", () => {
  let server: TestServer;
  let database: TestDatabase;
  let forwarder: DeliveryForwarder;
  beforeAll(async () => {
    ({ server, database, forwarder } = await startWithForwarder());
  });
  afterEach(cleanUp);
  afterAll(async () => {
    await forwarder.stop();
    await server.stop();
    await database.dispose();
  });

  it("does not repeat an event an earlier subscription received as PENDING", async () => {
    const user = "repro-ivan";
    const todoId = await createTodoAs(server.origin, user);
    await settled(database, forwarder, user);
    const releaseBroker = holdBroker(server);
    expectNoErrors(
      await postGraphQL(server.origin, UpdateTodoDocument, { id: todoId, input: { title: "x" } }, asUser(user)),
    );
    const earlier = subscribeAs(server, user, 0);
    await waitFor(() => earlier.events.length === 2); // 1 PUBLISHED, 2 PENDING
    await earlier.stop();
    const later = subscribeAs(server, user, earlier.lastSequence()); // afterSequence 2
    await waitFor(() => server.app.services.todoEventFeed.activeSubscriptions === 1);
    releaseBroker();
    await settled(database, forwarder, user);
    await createTodoAs(server.origin, user);
    await waitFor(() => later.lastSequence() === 3);

    expect(sequencesOf(later)).toEqual([3]); // received: [2, 3]
  });

  it("does not repeat the first replayed events when more than 1000 were replayed", async () => {
    const user = "repro-kim";
    const releaseBroker = holdBroker(server);
    for (let i = 0; i < 1100; i += 1) await server.app.services.todos.create({ id: user }, { title: `t${i}` });
    const feed = subscribeAs(server, user, 0);
    await waitFor(() => feed.events.length === 1100, 15_000); // 1..1100, all PENDING
    releaseBroker();
    await settled(database, forwarder, user);
    await createTodoAs(server.origin, user);
    await waitFor(() => feed.lastSequence() === 1101, 15_000);

    expect(sequencesOf(feed)).toEqual(range(1, 1101)); // received: 1..1100, 1..100, 1101
  }, 30_000);
});

describe("a subscription resumed on an instance whose consumer lags", () => {
  let database: TestDatabase;
  let first: TestServer;
  let second: TestServer;
  let forwarder: DeliveryForwarder;
  beforeAll(async () => {
    database = await openTestDatabase("postgres");
    const publisher = new InMemoryEventPublisher();
    first = await startTestServer({ database, publisher });
    second = await startTestServer({ database, publisher });
    forwarder = forwardDeliveries(publisher, [first.origin, second.origin]);
  });
  afterEach(cleanUp);
  afterAll(async () => {
    await forwarder.stop();
    await first.stop();
    await second.stop();
    await database.dispose();
  });

  it("does not repeat events the client saw on the first instance", async () => {
    const user = "repro-judy";
    const writer = new EventWriter(user);
    const endLag = forwarder.lag(second.origin); // the second instance's consumer is behind
    const before = subscribeAs(first, user);
    await waitFor(() => first.app.services.todoEventFeed.activeSubscriptions === 1);
    await writer.commitMany(first, 2);
    await waitFor(() => before.events.length === 2);
    await before.stop();
    const resumed = subscribeAs(second, user, before.lastSequence()); // afterSequence 2
    await waitFor(() => second.app.services.todoEventFeed.activeSubscriptions === 1);
    endLag();
    await writer.commit(first);
    await waitFor(() => resumed.lastSequence() === 3);

    expect(sequencesOf(resumed)).toEqual([3]); // received: [1, 2, 3]
  });
});
