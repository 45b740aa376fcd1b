/** The Dapr delivery route of a production server against forged and oversized deliveries. */
import type { TodoEventPayload } from "../../../src/events/todo-event";
import { MAX_DELIVERY_BODY_BYTES } from "../../../src/http/dapr-routes";
import { TEST_APP_API_TOKEN } from "../../support/config";
import {
  bulkDeliveryOf,
  cloudEventFor,
  collectTodoEvents,
  deliver,
  deliverHeadersOnly,
  deliverStreamed,
  eventFor,
  largestLegalEventFor,
  subscriptionClient,
  waitFor,
} from "../../support/deliveries";
import { startTestServer, type TestServer } from "../../support/test-server";
import { tokenFor } from "../../support/tokens";

const withToken = { "dapr-api-token": TEST_APP_API_TOKEN };
const payloadTooLarge = {
  errors: [
    {
      message: `Delivery body exceeds the limit of ${MAX_DELIVERY_BODY_BYTES} bytes`,
      extensions: { code: "PAYLOAD_TOO_LARGE" },
    },
  ],
};

describe("the delivery route of a production server", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { NODE_ENV: "production" } });
  });
  afterAll(() => server.stop());

  /** Runs `act` while alice has a live todoEvents subscription, and returns the event ids she received. */
  async function eventIdsAliceReceives(act: () => Promise<void>, settled: (ids: unknown[]) => boolean) {
    const { client } = subscriptionClient(server.origin, `Bearer ${tokenFor("alice")}`);
    const feed = collectTodoEvents(client);
    await waitFor(() => server.app.services.todoEventFeed.activeSubscriptions === 1);
    try {
      await act();
      const ids = () => feed.events.map((event) => event.eventId);
      await waitFor(() => settled(ids()));
      return ids();
    } finally {
      feed.dispose();
      await client.dispose();
      await waitFor(() => server.app.services.todoEventFeed.activeSubscriptions === 0);
    }
  }

  const isHealthy = async () => (await fetch(`${server.origin}/healthz`)).status === 200;

  it.each([
    ["without a dapr-api-token", {}],
    ["with a wrong dapr-api-token", { "dapr-api-token": "not-the-app-token" }],
  ])("refuses an event naming alice %s with 401, and she never receives it", async (_case, headers) => {
    const forged = eventFor("alice");
    const genuine = eventFor("alice");
    let forgedStatus = 0;

    // The genuine event is sent after the forged one: once it has arrived, the forged one would have too.
    const received = await eventIdsAliceReceives(
      async () => {
        forgedStatus = (await deliver(server.origin, cloudEventFor(forged), headers)).status;
        await deliver(server.origin, cloudEventFor(genuine), withToken);
      },
      (ids) => ids.includes(genuine.event_id),
    );

    expect(forgedStatus).toBe(401);
    expect(received).toEqual([genuine.event_id]);
  });

  it("passes the same event to alice when it carries the app token", async () => {
    const event = eventFor("alice");
    let answer: unknown;

    const received = await eventIdsAliceReceives(
      async () => {
        answer = await deliver(server.origin, cloudEventFor(event), withToken);
      },
      (ids) => ids.length > 0,
    );

    expect(answer).toEqual({ status: 200, body: { status: "SUCCESS" } });
    expect(received).toEqual([event.event_id]);
  });

  it("refuses a body declared over the limit with 413 before reading it", async () => {
    const answer = await deliverHeadersOnly(server.origin, MAX_DELIVERY_BODY_BYTES + 1, withToken);

    expect({ status: answer.status, body: answer.body }).toEqual({ status: 413, body: payloadTooLarge });
    expect(answer.headers.connection).toBe("close");
  });

  it("refuses a streamed body that grows past the limit with 413, naming this route's limit", async () => {
    const answer = await deliverStreamed(server.origin, MAX_DELIVERY_BODY_BYTES + 64 * 1024, withToken);

    expect({ status: answer.status, body: answer.body }).toEqual({ status: 413, body: payloadTooLarge });
  });

  it("stays healthy and keeps delivering after oversized bodies", async () => {
    await deliverStreamed(server.origin, 2 * MAX_DELIVERY_BODY_BYTES, withToken);
    await deliverHeadersOnly(server.origin, 1024 * 1024 * 1024, withToken);

    expect(await isHealthy()).toBe(true);
    expect(await deliver(server.origin, cloudEventFor(eventFor("alice")), withToken)).toEqual({
      status: 200,
      body: { status: "SUCCESS" },
    });
  });

  it("answers a huge body without a token with 401 before reading it, and closes the connection", async () => {
    const answer = await deliverHeadersOnly(server.origin, 1024 * 1024 * 1024);

    expect(answer.status).toBe(401);
    expect(answer.headers.connection).toBe("close");
    expect(await isHealthy()).toBe(true);
  });

  it("accepts a bulk delivery of 100 of the largest legal events, each as JSON text", async () => {
    const events: TodoEventPayload[] = Array.from({ length: 100 }, (_, index) => largestLegalEventFor(index + 1));
    const body = JSON.stringify(bulkDeliveryOf(events.map((event) => JSON.stringify(cloudEventFor(event)))));

    const answer = await deliver(server.origin, body, withToken);

    // Close to the limit, so a tighter one would fail here.
    expect(Buffer.byteLength(body)).toBeGreaterThan(0.8 * MAX_DELIVERY_BODY_BYTES);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      statuses: events.map((_, index) => ({ entryId: `entry-${index}`, status: "SUCCESS" })),
    });
  });
});
