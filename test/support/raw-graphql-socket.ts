/**
 * A graphql-ws peer spoken by hand over `ws`, for floods: it sends as fast as
 * the socket takes messages and records every answer, which the graphql-ws
 * client library would queue or retry.
 */
import WebSocket from "ws";

export interface ServerMessage {
  readonly id?: string;
  readonly type: string;
  readonly payload?: unknown;
}

export interface RawGraphQLSocket {
  readonly messages: ServerMessage[];
  /** Resolves with the close code and reason once the server closes the socket. */
  readonly closed: Promise<{ code: number; reason: string }>;
  subscribe(id: string, query: string): void;

  close(): Promise<void>;
}

/** Opens a socket and sends connection_init; resolves once acknowledged, or once the server closes it. */
export async function openRawGraphQLSocket(origin: string, authorization: string): Promise<RawGraphQLSocket> {
  const socket = new WebSocket(`${origin.replace(/^http/, "ws")}/graphql`, "graphql-transport-ws");
  const messages: ServerMessage[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const acknowledged = new Promise<void>((resolve) => {
    // Text frames only: graphql-ws never sends binary ones.
    socket.on("message", (data: Buffer) => {
      const message = JSON.parse(data.toString("utf8")) as ServerMessage;
      messages.push(message);
      if (message.type === "connection_ack") resolve();
    });
    void closed.then(() => resolve());
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  socket.send(JSON.stringify({ type: "connection_init", payload: { authorization } }));
  await acknowledged;
  return {
    messages,
    closed,
    subscribe(id, query) {
      socket.send(JSON.stringify({ id, type: "subscribe", payload: { query } }));
    },
    async close() {
      if (socket.readyState === WebSocket.CLOSED) return;
      socket.close(1000);
      await closed;
    },
  };
}
