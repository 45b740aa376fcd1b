/**
 * One user's WebSockets cannot grow the server without bound: operations per
 * socket and sockets per user are capped, the excess is refused with a clear
 * code, and the heap stays flat while the server keeps answering others.
 */
import { MeDocument } from "../generated/graphql";
import { heapUsedAfterGc, MiB } from "../support/heap";
import { openRawGraphQLSocket, type RawGraphQLSocket } from "../support/raw-graphql-socket";
import { asUser, postGraphQL, startTestServer, type TestServer } from "../support/test-server";
import { tokenFor } from "../support/tokens";

const SUBSCRIPTION = "subscription { todoEvents { eventId } }";

async function waitUntil(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function expectStillServing(server: TestServer): Promise<void> {
  expect((await fetch(`${server.origin}/healthz`)).status).toBe(200);
  expect((await postGraphQL(server.origin, MeDocument, {}, asUser("bystander"))).body.data?.me.id).toBe("bystander");
}

describe("WebSocket floods in production", () => {
  let server: TestServer;
  const activeSubscriptions = () => server.app.services.todoEventFeed.activeSubscriptions;
  beforeAll(async () => {
    // The rate limit is off so the caps themselves are what refuses the flood.
    server = await startTestServer({
      env: {
        NODE_ENV: "production",
        RATE_LIMIT_PER_MINUTE: "0",
        WS_MAX_SUBSCRIPTIONS_PER_SOCKET: "20",
        WS_MAX_SOCKETS_PER_USER: "10",
      },
    });
  });
  afterAll(() => server.stop());

  it("refuses a socket's operations past its cap with TOO_MANY_SUBSCRIPTIONS, keeping the heap flat", async () => {
    const before = heapUsedAfterGc();
    const socket = await openRawGraphQLSocket(server.origin, `Bearer ${tokenFor("flooder")}`);
    try {
      for (let index = 0; index < 20_000; index += 1) socket.subscribe(`s${index}`, SUBSCRIPTION);
      await waitUntil(() => socket.messages.filter((message) => message.type === "error").length === 19_980);

      const refusals = socket.messages.filter((message) => message.type === "error");
      const codes = new Set(
        refusals.map((message) => (message.payload as { extensions?: { code?: string } }[])[0].extensions?.code),
      );
      expect(codes).toEqual(new Set(["TOO_MANY_SUBSCRIPTIONS"]));
      expect(activeSubscriptions()).toBe(20);
      expect(heapUsedAfterGc() - before).toBeLessThan(16 * MiB);
      await expectStillServing(server);
    } finally {
      await socket.close();
    }
    await waitUntil(() => activeSubscriptions() === 0);
  });

  it("closes a user's sockets past the cap with 4429 and lets other users connect", async () => {
    const sockets: RawGraphQLSocket[] = [];
    try {
      for (let index = 0; index < 200; index += 1) {
        sockets.push(await openRawGraphQLSocket(server.origin, `Bearer ${tokenFor("hoarder")}`));
      }
      const refused = await Promise.all(sockets.slice(10).map((socket) => socket.closed.then((closed) => closed.code)));
      const other = await openRawGraphQLSocket(server.origin, `Bearer ${tokenFor("neighbour")}`);
      sockets.push(other);

      expect(new Set(refused)).toEqual(new Set([4429]));
      expect(sockets.slice(0, 10).every((socket) => socket.messages[0]?.type === "connection_ack")).toBe(true);
      expect(other.messages[0]?.type).toBe("connection_ack");
      await expectStillServing(server);
    } finally {
      await Promise.all(sockets.map((socket) => socket.close()));
    }
  });

  it("frees a user's socket slot when a socket closes", async () => {
    const sockets: RawGraphQLSocket[] = [];
    try {
      for (let index = 0; index < 10; index += 1) {
        sockets.push(await openRawGraphQLSocket(server.origin, `Bearer ${tokenFor("rotator")}`));
      }
      await sockets.shift()!.close();
      const replacement = await openRawGraphQLSocket(server.origin, `Bearer ${tokenFor("rotator")}`);
      sockets.push(replacement);

      expect(replacement.messages[0]?.type).toBe("connection_ack");
    } finally {
      await Promise.all(sockets.map((socket) => socket.close()));
    }
  });

  it("costs a bounded amount of memory per idle subscription (measured and printed)", async () => {
    const users = 10;
    const socketsPerUser = 10;
    const perSocket = 20;
    const before = heapUsedAfterGc();
    const sockets: RawGraphQLSocket[] = [];
    try {
      for (let user = 0; user < users; user += 1) {
        for (let index = 0; index < socketsPerUser; index += 1) {
          const socket = await openRawGraphQLSocket(server.origin, `Bearer ${tokenFor(`idle-${user}`)}`);
          for (let id = 0; id < perSocket; id += 1) socket.subscribe(`s${id}`, SUBSCRIPTION);
          sockets.push(socket);
        }
      }
      const total = users * socketsPerUser * perSocket;
      await waitUntil(() => activeSubscriptions() === total);
      const perSubscription = (heapUsedAfterGc() - before) / total;
      // The figure docs/security.md reports; it includes each socket's share (client and server side).
      console.log(`[websocket memory] ${total} idle subscriptions: ${Math.round(perSubscription)} bytes each`);

      expect(perSubscription).toBeLessThan(20 * 1024);
    } finally {
      await Promise.all(sockets.map((socket) => socket.close()));
    }
    await waitUntil(() => activeSubscriptions() === 0);
  });
});
