import { MAX_DETAILS_DEPTH } from "../../../src/events/todo-event-rules";
import {
  bulkDeliveryOf,
  cloudEventFor,
  collectTodoEvents,
  deliver,
  eventFor,
  subscriptionClient,
  waitFor,
} from "../../support/deliveries";
import { nestedObjects } from "../../support/nested-json";
import { startTestServer, type TestServer } from "../../support/test-server";
import { tokenFor } from "../../support/tokens";

const APP_TOKEN = "app-token-for-tests";

describe("the Dapr delivery route", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { APP_API_TOKEN: APP_TOKEN } });
  });
  afterAll(() => server.stop());

  const withToken = { "dapr-api-token": APP_TOKEN };

  it.each([
    ["without a dapr-api-token", {}],
    ["with a wrong dapr-api-token", { "dapr-api-token": "guess" }],
  ])("refuses a delivery %s with 401 and reaches no subscriber", async (_case, headers) => {
    const { client } = subscriptionClient(server.origin, `Bearer ${tokenFor("victim")}`);
    const feed = collectTodoEvents(client);
    await waitFor(() => server.app.services.todoEventFeed.activeSubscriptions === 1);
    try {
      const response = await deliver(server.origin, cloudEventFor(eventFor("victim")), headers);
      await new Promise((resolve) => setTimeout(resolve, 100));

      expect(response.status).toBe(401);
      expect(feed.events).toEqual([]);
    } finally {
      feed.dispose();
      await client.dispose();
    }
  });

  it("acknowledges a valid event with SUCCESS", async () => {
    expect(await deliver(server.origin, cloudEventFor(eventFor("alice")), withToken)).toEqual({
      status: 200,
      body: { status: "SUCCESS" },
    });
  });

  it.each([
    ["a body without data", { specversion: "1.0", id: "x" }],
    ["an event without user_id", { ...cloudEventFor(eventFor("alice")), data: { action: "task_created", task_id: 1 } }],
    ["an event with a bad action", cloudEventFor({ ...eventFor("alice"), action: "DROP TABLE" })],
    [
      `an event whose details nest ${MAX_DETAILS_DEPTH + 1} levels deep`,
      cloudEventFor({ ...eventFor("alice"), details: nestedObjects(MAX_DETAILS_DEPTH + 1) }),
    ],
    ["a body that is not JSON", "{ nope"],
  ])("answers DROP for %s, so Dapr dead-letters it", async (_case, body) => {
    expect(await deliver(server.origin, body, withToken)).toEqual({ status: 200, body: { status: "DROP" } });
  });

  it("answers each entry of a bulk delivery on its own", async () => {
    const body = bulkDeliveryOf([
      cloudEventFor(eventFor("alice")),
      { specversion: "1.0", id: "no-data" },
      JSON.stringify(cloudEventFor(eventFor("bob"))),
      "bm90IGpzb24=",
    ]);

    expect(await deliver(server.origin, body, withToken)).toEqual({
      status: 200,
      body: {
        statuses: [
          { entryId: "entry-0", status: "SUCCESS" },
          { entryId: "entry-1", status: "DROP" },
          { entryId: "entry-2", status: "SUCCESS" },
          { entryId: "entry-3", status: "DROP" },
        ],
      },
    });
  });

  it("passes a bulk delivery's events to their owner's subscribers in entry order, once each", async () => {
    const { client } = subscriptionClient(server.origin, `Bearer ${tokenFor("carol")}`);
    const feed = collectTodoEvents(client);
    await waitFor(() => server.app.services.todoEventFeed.activeSubscriptions === 1);
    try {
      const carols = [1, 2, 3].map((taskId) => eventFor("carol", taskId));
      const events = [carols[0], eventFor("mallory"), carols[1], carols[0], carols[2]];

      await deliver(server.origin, bulkDeliveryOf(events.map((event) => cloudEventFor(event))), withToken);
      await waitFor(() => feed.events.length === 3);

      expect(feed.events.map((event) => event.eventId)).toEqual(carols.map((event) => event.event_id));
    } finally {
      feed.dispose();
      await client.dispose();
    }
  });

  it("refuses a bulk delivery without the dapr-api-token", async () => {
    const response = await deliver(server.origin, bulkDeliveryOf([cloudEventFor(eventFor("alice"))]));

    expect(response.status).toBe(401);
  });

  it("accepts the seed's payload (no event_id): the CloudEvent id stands in", async () => {
    const seedStyle = { action: "task_created", task_id: 123, user_id: "user-456", details: { title: "Sample task" } };
    const body = { ...cloudEventFor(eventFor("user-456")), id: "seed-event-1", data: seedStyle };

    expect(await deliver(server.origin, body, withToken)).toEqual({ status: 200, body: { status: "SUCCESS" } });
  });

  it("answers the sidecar's subscription discovery with no programmatic subscriptions", async () => {
    const response = await fetch(`${server.origin}/dapr/subscribe`, { headers: withToken });
    expect(await response.json()).toEqual([]);
  });
});
