/** The outbox relay against real SQLite and PostgreSQL: at least once, never dropped, in order per user. */
import { createServices } from "../../../../src/services";
import type { OutboxBacklogReader } from "../../../../src/events/log/outbox-backlog";
import { OutboxRelay } from "../../../../src/events/log/outbox-relay";
import { OutboxRepository } from "../../../../src/events/log/outbox.repository";
import { PostgresAdvisoryLeadership } from "../../../../src/events/log/relay-leadership";
import type { Services } from "../../../../src/graphql/context";
import { DIALECTS, openTestDatabase, type TestDatabase } from "../../../support/databases";
import { InMemoryEventPublisher, publishedOrderByUser } from "../../../support/in-memory-event-publisher";
import { testConfig } from "../../../support/config";
import { silentLogger } from "../../../support/logger";

const users = ["alice", "bob", "carol"].map((id) => ({ id }));
const fastBackoff = { baseMs: 5, maxMs: 20 };

/** Event ids per user in outbox (commit) order: the order consumers must see. */
async function outboxOrderByUser(database: TestDatabase): Promise<Map<string, string[]>> {
  const rows = await database.db.selectFrom("outbox").select(["user_id", "event_id"]).orderBy("id").execute();
  const byUser = new Map<string, string[]>();
  for (const row of rows) byUser.set(row.user_id, [...(byUser.get(row.user_id) ?? []), row.event_id]);
  return byUser;
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe.each(DIALECTS)("OutboxRelay on %s", (dialect) => {
  let database: TestDatabase;
  let publisher: InMemoryEventPublisher;
  let services: Services;
  let relay: OutboxRelay;
  let backlog: OutboxBacklogReader;

  beforeEach(async () => {
    database = await openTestDatabase(dialect);
    publisher = new InMemoryEventPublisher();
    ({ services, relay, backlog } = createServices({
      database,
      publisher,
      logger: silentLogger,
      config: testConfig(),
      relayTuning: { pollIntervalMs: 10, backoff: fastBackoff },
    }));
  });
  afterEach(async () => {
    await relay.stop();
    await database.dispose();
  });

  async function mutateForEveryone(rounds: number): Promise<void> {
    for (let round = 0; round < rounds; round += 1) {
      await Promise.all(
        users.map(async (user) => {
          const todo = await services.todos.create(user, { title: `${user.id} ${round}` });
          await services.todos.complete(user, todo.id);
        }),
      );
    }
  }

  const allPublished = async () => (await backlog.read()).pending === 0;

  it("publishes every pending row once, in per-user order, and marks it PUBLISHED", async () => {
    await mutateForEveryone(5);
    relay.start();
    await eventually(allPublished);

    expect(publisher.published).toHaveLength(30);
    expect(publishedOrderByUser(publisher.published)).toEqual(await outboxOrderByUser(database));
    // Published rows stay in the log (until retention), so the backlog still counts them.
    expect(await backlog.read()).toEqual({ pending: 0, oldestPendingAgeMs: null, span: 30 });
    const history = await services.eventHistory.page(users[0], 100, undefined);
    expect(history.items.every((record) => record.status === "PUBLISHED" && record.attempts === 1)).toBe(true);
  });

  it("puts many users' events in one bulk publish, never two events of one user", async () => {
    await mutateForEveryone(4);
    relay.start();
    await eventually(allPublished);

    expect(publisher.batches.some((batch) => batch.length === users.length)).toBe(true);
    for (const batch of publisher.batches) expect(new Set(batch).size).toBe(batch.length);
    expect(publisher.batches.flat()).toHaveLength(24);
  });

  it("splits a round into bulk publishes of at most maxBulkEntries events", async () => {
    const small = createServices({
      database,
      publisher,
      logger: silentLogger,
      config: testConfig(),
      relayTuning: { pollIntervalMs: 10, backoff: fastBackoff, maxBulkEntries: 2 },
    });
    await mutateForEveryone(1);
    small.relay.start();
    await eventually(allPublished);
    await small.relay.stop();

    expect(Math.max(...publisher.batches.map((batch) => batch.length))).toBe(2);
    expect(publisher.published).toHaveLength(6);
    expect(publishedOrderByUser(publisher.published)).toEqual(await outboxOrderByUser(database));
  });

  it("retries a failing publisher with backoff until each event is published exactly once", async () => {
    await mutateForEveryone(3);
    publisher.failNext(7);
    relay.start();
    await eventually(allPublished);

    const ids = publisher.published.map((message) => message.payload.event_id);
    expect(ids).toHaveLength(18);
    expect(new Set(ids).size).toBe(18);
    expect(publishedOrderByUser(publisher.published)).toEqual(await outboxOrderByUser(database));
    const attempts = await database.db
      .selectFrom("outbox")
      .select((eb) => eb.fn.sum<number>("attempts").as("total"))
      .executeTakeFirstOrThrow();
    expect(Number(attempts.total)).toBe(18 + 7);
  });

  it("holds back only the failing user's later events while others flow", async () => {
    await mutateForEveryone(2);
    publisher.failFor("bob", 1_000_000);
    relay.start();
    await eventually(async () => publisher.published.length === 8);
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(publisher.published.map((message) => message.payload.user_id).sort()).toEqual([
      ...Array<string>(4).fill("alice"),
      ...Array<string>(4).fill("carol"),
    ]);
    const bobsHistory = await services.eventHistory.page(users[1], 100, undefined);
    const oldest = bobsHistory.items.at(-1)!;
    expect(oldest).toMatchObject({ status: "PENDING", lastError: expect.stringContaining("rejected") });
    expect(oldest.attempts).toBeGreaterThan(1);
    expect(bobsHistory.items.slice(0, -1).every((record) => record.attempts === 0)).toBe(true);

    publisher.failFor("bob", 0);
    await eventually(allPublished);
    expect(publishedOrderByUser(publisher.published).get("bob")).toEqual(
      (await outboxOrderByUser(database)).get("bob"),
    );
  });

  it("publishes what was left pending when it is stopped and started again", async () => {
    relay.start();
    await mutateForEveryone(2);
    await relay.stop();
    await mutateForEveryone(2);
    expect((await backlog.read()).pending).toBeGreaterThan(0);

    relay.start();
    await eventually(allPublished);

    expect(publisher.published).toHaveLength(24);
    expect(new Set(publisher.published.map((message) => message.payload.event_id)).size).toBe(24);
    expect(publishedOrderByUser(publisher.published)).toEqual(await outboxOrderByUser(database));
  });

  it("reports the backlog: count and age of the oldest pending row", async () => {
    await mutateForEveryone(1);
    await new Promise((resolve) => setTimeout(resolve, 30));

    const pending = await backlog.read();

    expect(pending.pending).toBe(6);
    expect(pending.oldestPendingAgeMs).toBeGreaterThanOrEqual(25);
    expect(pending.span).toBe(6);
  });
});

describe("two relays on one PostgreSQL database", () => {
  let database: TestDatabase;
  beforeEach(async () => {
    database = await openTestDatabase("postgres", { poolSize: 20 });
  });
  afterEach(() => database.dispose());

  it("never reorder a user's events nor publish one twice under concurrent mutations", async () => {
    const publisher = new InMemoryEventPublisher();
    const { services, backlog } = createServices({
      database,
      publisher,
      logger: silentLogger,
      config: testConfig(),
    });
    const outbox = new OutboxRepository("postgres");
    const relayOn = (leadershipPool = database.pool!) =>
      new OutboxRelay({
        db: database.db,
        outbox,
        publisher,
        leadership: new PostgresAdvisoryLeadership(leadershipPool),
        logger: silentLogger,
        pollIntervalMs: 5,
        standbyIntervalMs: 20,
        backoff: fastBackoff,
        maxBulkEntries: 100,
      });
    const [first, second] = [relayOn(), relayOn()];
    first.start();
    second.start();

    await Promise.all(
      Array.from({ length: 8 }, async (_, writer) => {
        for (let round = 0; round < 10; round += 1) {
          const user = users[(writer + round) % users.length];
          const todo = await services.todos.create(user, { title: `w${writer} r${round}` });
          await services.todos.complete(user, todo.id);
        }
      }),
    );
    await eventually(async () => (await backlog.read()).pending === 0);
    // Hand over mid-stream: the first relay stops, the standby takes over.
    await first.stop();
    for (const user of users) await services.todos.create(user, { title: "after hand-over" });
    await eventually(async () => (await backlog.read()).pending === 0);
    await second.stop();

    const ids = publisher.published.map((message) => message.payload.event_id);
    expect(ids).toHaveLength(163);
    expect(new Set(ids).size).toBe(163);
    expect(publishedOrderByUser(publisher.published)).toEqual(await outboxOrderByUser(database));
  });

  it("lets only one instance hold the relay lock", async () => {
    const one = new PostgresAdvisoryLeadership(database.pool!);
    const two = new PostgresAdvisoryLeadership(database.pool!);

    expect(await one.acquire()).toBe(true);
    expect(await two.acquire()).toBe(false);
    await one.release();
    expect(await two.acquire()).toBe(true);
    await two.release();
  });
});
