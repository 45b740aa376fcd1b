/** Builds what the Dapr sidecar POSTs to the delivery route, and a subscription client. */
import { randomUUID } from "node:crypto";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import type { TodoEventPayload } from "../../src/events/todo-event";
import { MAX_DETAILS_BYTES } from "../../src/events/todo-event-rules";
import { DELIVERY_PATH } from "../../src/http/dapr-routes";
import { todoEventPayload } from "./event-payloads";

export function cloudEventFor(event: TodoEventPayload): Record<string, unknown> {
  return {
    specversion: "1.0",
    id: event.event_id,
    source: "todo-api",
    type: `todo.${event.action}`,
    datacontenttype: "application/json",
    topic: "todo-events",
    pubsubname: "kafka-pubsub",
    time: event.occurred_at,
    data: event,
  };
}

export function eventFor(userId: string, taskId = 1, action = "task_created"): TodoEventPayload {
  return todoEventPayload({ eventId: randomUUID(), action, taskId, userId, details: { via: "test" } });
}

/**
 * An event as large as the API ever publishes, and as hard to escape as possible: a 256-character
 * user id of three-byte characters, and details of exactly MAX_DETAILS_BYTES that are nearly all
 * quotes, so carrying the event as JSON text doubles it.
 */
export function largestLegalEventFor(taskId = 1): TodoEventPayload {
  const prefix = JSON.stringify({ quotes: "" }).length;
  const quotes = '"'.repeat(Math.floor((MAX_DETAILS_BYTES - prefix) / 2));
  const details = { quotes };
  if (Buffer.byteLength(JSON.stringify(details)) > MAX_DETAILS_BYTES) throw new Error("details over the limit");
  return todoEventPayload({ eventId: randomUUID(), action: "task_created", taskId, userId: "€".repeat(256), details });
}

/** What daprd POSTs when the subscription has bulkSubscribe on: entries with ids, each a CloudEvent. */
export function bulkDeliveryOf(events: readonly unknown[]): Record<string, unknown> {
  return {
    id: randomUUID(),
    type: "com.dapr.event.sent.bulk",
    topic: "todo-events",
    pubsubname: "kafka-pubsub",
    metadata: {},
    entries: events.map((event, index) => ({
      entryId: `entry-${index}`,
      event,
      contentType: "application/cloudevents+json",
      metadata: {},
    })),
  };
}

export async function deliver(
  origin: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${origin}/dapr/todo-events`, {
    method: "POST",
    headers: { "content-type": "application/cloudevents+json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

export interface RawAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
}

/**
 * POSTs to the delivery route declaring a body of `declaredBytes` but sending none of it. Only a
 * server that decides without reading the body answers; one that waits for it never does.
 */
export function deliverHeadersOnly(
  origin: string,
  declaredBytes: number,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  return postHeadersOnly(origin, DELIVERY_PATH, declaredBytes, headers);
}

/** Sends only the headers of a POST to `path` that declares `declaredBytes` of body, and waits for the answer. */
export function postHeadersOnly(
  origin: string,
  path: string,
  declaredBytes: number,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  return rawPost(`${origin}${path}`, { "content-length": String(declaredBytes), ...headers }, (request) =>
    request.flushHeaders(),
  );
}

/** POSTs `bodyBytes` of JSON-looking text to the delivery route in chunks, without a Content-Length. */
export function deliverStreamed(
  origin: string,
  bodyBytes: number,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  return rawPost(`${origin}${DELIVERY_PATH}`, headers, (request) => {
    const chunk = Buffer.alloc(64 * 1024, " ");
    let sent = 0;
    const writeMore = (): void => {
      while (sent < bodyBytes) {
        const piece = chunk.subarray(0, Math.min(chunk.length, bodyBytes - sent));
        sent += piece.length;
        if (!request.write(piece)) {
          request.once("drain", writeMore);
          return;
        }
      }
      request.end();
    };
    writeMore();
  });
}

function rawPost(
  url: string,
  headers: Record<string, string>,
  send: (request: ReturnType<typeof httpRequest>) => void,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, {
      method: "POST",
      headers: { "content-type": "application/cloudevents+json", ...headers },
    });
    let answered = false;
    request.on("response", (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: JSON.parse(text) as unknown });
        request.destroy();
      });
    });
    // Once answered, the connection is ours to drop (and the server's to close).
    request.on("error", (error) => {
      if (!answered) reject(error);
    });
    send(request);
  });
}

export interface Closed {
  readonly code: number;
  readonly reason: string;
}

/** A graphql-ws client that does not reconnect, so tests see every close. */
export function subscriptionClient(
  origin: string,
  authorization?: string,
): { client: Client; closed: Promise<Closed> } {
  let onClosed!: (closed: Closed) => void;
  const closed = new Promise<Closed>((resolve) => (onClosed = resolve));
  const client = createClient({
    url: `${origin.replace(/^http/, "ws")}/graphql`,
    webSocketImpl: WebSocket,
    lazy: false,
    // Closes are observed through `on.closed`; the default handler would print them.
    onNonLazyError: () => undefined,
    retryAttempts: 0,
    connectionParams: authorization === undefined ? {} : { authorization },
    on: {
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        onClosed({ code, reason: String(reason) });
      },
    },
  });
  return { client, closed };
}

/** Collects `todoEvents` subscription payloads until disposed. */
export function collectTodoEvents(client: Client): {
  events: Record<string, unknown>[];
  errors: unknown[];
  dispose: () => void;
} {
  const events: Record<string, unknown>[] = [];
  const errors: unknown[] = [];
  const dispose = client.subscribe<{ todoEvents: Record<string, unknown> }>(
    { query: "subscription { todoEvents { eventId action taskId details status attempts } }" },
    {
      next: (result) => {
        if (result.errors !== undefined) errors.push(...result.errors);
        if (result.data) events.push(result.data.todoEvents);
      },
      error: (error) => errors.push(error),
      complete: () => undefined,
    },
  );
  return { events, errors, dispose };
}

export async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
