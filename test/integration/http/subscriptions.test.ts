import {
  cloudEventFor,
  collectTodoEvents,
  deliver,
  eventFor,
  subscriptionClient,
  waitFor,
} from "../../support/deliveries";
import { startTestServer, type TestServer } from "../../support/test-server";
import { hsToken, nowSeconds, tokenFor } from "../../support/tokens";

describe("the todoEvents subscription over graphql-ws", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  const activeSubscriptions = () => server.app.services.todoEventFeed.activeSubscriptions;

  it.each([
    ["no token", undefined],
    ["an invalid token", "Bearer not.a.token"],
    ["an expired token", `Bearer ${hsToken({ sub: "alice", exp: nowSeconds() - 60 })}`],
  ])("closes the socket with 4403 for %s", async (_case, authorization) => {
    const { client, closed } = subscriptionClient(server.origin, authorization);
    collectTodoEvents(client);

    expect((await closed).code).toBe(4403);
    await client.dispose();
  });

  it("delivers the subscriber's own events in order, and never another user's", async () => {
    const alice = subscriptionClient(server.origin, `Bearer ${tokenFor("alice")}`);
    const bob = subscriptionClient(server.origin, `Bearer ${tokenFor("bob")}`);
    const alicesFeed = collectTodoEvents(alice.client);
    const bobsFeed = collectTodoEvents(bob.client);
    await waitFor(() => activeSubscriptions() === 2);
    try {
      const sent = [
        eventFor("alice", 1),
        eventFor("bob", 2),
        eventFor("alice", 3, "task_completed"),
        eventFor("bob", 4),
      ];
      for (const event of sent) await deliver(server.origin, cloudEventFor(event));
      await waitFor(() => alicesFeed.events.length === 2 && bobsFeed.events.length === 2);
      await new Promise((resolve) => setTimeout(resolve, 50));

      expect(alicesFeed.events).toEqual([
        {
          eventId: sent[0].event_id,
          action: "task_created",
          taskId: 1,
          details: { via: "test" },
          status: "PUBLISHED",
          attempts: null,
        },
        {
          eventId: sent[2].event_id,
          action: "task_completed",
          taskId: 3,
          details: { via: "test" },
          status: "PUBLISHED",
          attempts: null,
        },
      ]);
      expect(bobsFeed.events.map((event) => event.eventId)).toEqual([sent[1].event_id, sent[3].event_id]);
      expect(alicesFeed.errors).toEqual([]);
    } finally {
      alicesFeed.dispose();
      bobsFeed.dispose();
      await Promise.all([alice.client.dispose(), bob.client.dispose()]);
    }
  });

  it("passes a redelivered event (same event id) to subscribers once", async () => {
    const alice = subscriptionClient(server.origin, `Bearer ${tokenFor("alice")}`);
    const feed = collectTodoEvents(alice.client);
    await waitFor(() => activeSubscriptions() === 1);
    try {
      const event = eventFor("alice");
      await deliver(server.origin, cloudEventFor(event));
      await deliver(server.origin, cloudEventFor(event));
      await waitFor(() => feed.events.length === 1);
      await new Promise((resolve) => setTimeout(resolve, 50));

      expect(feed.events).toHaveLength(1);
    } finally {
      feed.dispose();
      await alice.client.dispose();
    }
  });

  it("closes the socket with 4403 when the token expires, after the same clock tolerance HTTP grants", async () => {
    const tolerant = await startTestServer({ env: { JWT_CLOCK_TOLERANCE_SECONDS: "1" } });
    try {
      const exp = nowSeconds() + 1;
      const { client, closed } = subscriptionClient(tolerant.origin, `Bearer ${hsToken({ sub: "alice", exp })}`);
      collectTodoEvents(client);

      const { code, reason } = await closed;
      const closedAt = Date.now();

      expect({ code, reason }).toEqual({ code: 4403, reason: "Token expired" });
      // HTTP accepts the token until exp + tolerance; the socket must not close earlier, nor much later.
      expect(closedAt).toBeGreaterThanOrEqual((exp + 1) * 1000 - 20);
      expect(closedAt).toBeLessThan((exp + 1) * 1000 + 2000);
      await waitFor(() => tolerant.app.services.todoEventFeed.activeSubscriptions === 0);
      await client.dispose();
    } finally {
      await tolerant.stop();
    }
  });

  it("forgets a subscription when the client unsubscribes", async () => {
    const alice = subscriptionClient(server.origin, `Bearer ${tokenFor("alice")}`);
    const feed = collectTodoEvents(alice.client);
    await waitFor(() => activeSubscriptions() === 1);

    feed.dispose();
    await waitFor(() => activeSubscriptions() === 0);
    await alice.client.dispose();
  });
});
