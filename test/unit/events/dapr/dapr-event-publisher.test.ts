/**
 * The Dapr adapter's own failure handling when there is no working sidecar.
 * Publishing through a real sidecar is covered by the end-to-end tier.
 */
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { DaprEventPublisher } from "../../../../src/events/dapr/dapr-event-publisher";
import { silentLogger } from "../../../support/logger";
import { todoEventPayload } from "../../../support/event-payloads";

const event = todoEventPayload({ action: "task_created", taskId: 1, userId: "user-456", details: {} });

function publisherOn(port: number, publishTimeoutMs = 5000): DaprEventPublisher {
  return new DaprEventPublisher({
    daprHost: "127.0.0.1",
    daprHttpPort: port,
    pubsubName: "kafka-pubsub",
    topic: "todo-events",
    publishTimeoutMs,
    logger: silentLogger,
  });
}

/** A port that was free a moment ago: nothing listens there. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("DaprEventPublisher without a working sidecar", () => {
  it("reports 'unavailable' at once when nothing listens (no 60 s SDK wait)", async () => {
    const publisher = publisherOn(await closedPort());
    const started = Date.now();

    const outcome = await publisher.publish(event);

    expect(outcome).toEqual({ ok: false, reason: "unavailable", detail: expect.stringContaining("ECONNREFUSED") });
    expect(Date.now() - started).toBeLessThan(2000);
    await publisher.close();
  });

  describe("when the sidecar accepts connections but never answers", () => {
    let server: Server;
    const sockets = new Set<Socket>();
    beforeAll(async () => {
      server = createServer((socket) => sockets.add(socket));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    });

    it("gives up after PUBLISH_TIMEOUT_MS with reason 'timeout'", async () => {
      const publisher = publisherOn((server.address() as AddressInfo).port, 200);

      const outcome = await publisher.publish(event);

      expect(outcome).toEqual({ ok: false, reason: "timeout", detail: expect.stringContaining("200 ms") });
      await publisher.close();
    });
  });
});
