/** Builds what the Dapr sidecar POSTs to the delivery route, and a subscription client. */
import { randomUUID } from "node:crypto";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { createTodoEvent, type TodoEvent } from "../../src/events/todo-event";

export function cloudEventFor(event: TodoEvent): Record<string, unknown> {
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

export function eventFor(userId: string, taskId = 1, action = "task_created"): TodoEvent {
  return createTodoEvent({ eventId: randomUUID(), action, taskId, userId, details: { via: "test" } });
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
