/** Routes the Dapr sidecar calls on the app: subscription discovery and event delivery. */
import type { FastifyError, FastifyPluginCallback, onRequestHookHandler } from "fastify";
import type { DeliveryStatus, TodoEventDelivery } from "../events/delivery/todo-event-delivery";
import { ErrorCode, errorBody } from "../error-codes";
import { parseJsonOrUndefined } from "../shared/json";
import { payloadTooLargeBody, refuseDeclaredBodiesOver } from "./body-limit";

export const DELIVERY_PATH = "/dapr/todo-events";

/**
 * The largest delivery body read: what daprd sends, bulk deliveries included, and no more.
 * One of our events, as a CloudEvent, is at most
 *   16 KiB  its details, serialised (MAX_DETAILS_BYTES)
 *  + 2 KiB  the payload's other fields: the user id (256 characters, up to 768 bytes in UTF-8),
 *           event id, action, task id, time and the field names
 *  + 1 KiB  the CloudEvent envelope (id, source, type, topic, pubsub, trace context, time)
 *  = 19 KiB, and 38 KiB when a bulk entry carries it as JSON text, whose escaping of every `"`
 *           and `\` at most doubles it.
 * With bulkSubscribe, daprd sends at most 100 entries by default: 3.71 MiB, plus the entries' own
 * fields (entryId, contentType, metadata) and the bulk envelope, rounded up to 4 MiB.
 * Parsing is what costs memory (4 MiB of `{}` is about 90 MiB of heap), so the bound stays tight.
 */
export const MAX_DELIVERY_BODY_BYTES = 4 * 1024 * 1024;

export function daprRoutes(delivery: TodoEventDelivery): FastifyPluginCallback {
  const requireAppToken: onRequestHookHandler = (request, reply, done) => {
    const token = request.headers["dapr-api-token"];
    if (delivery.isAuthorised(typeof token === "string" ? token : undefined)) {
      done();
      return;
    }
    // The body is never read: closing the connection keeps Node from draining it for a stranger.
    void reply
      .header("connection", "close")
      .code(401)
      .send(errorBody("Missing or invalid dapr-api-token", ErrorCode.UNAUTHENTICATED));
  };

  return (app, _options, done) => {
    // This scope parses only what daprd sends. A body that is not JSON, or not JSON at all, can
    // never succeed: it is answered DROP (dead-letter), not with an error Dapr would retry.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser(
      ["application/cloudevents+json", "application/json"],
      { parseAs: "string", bodyLimit: MAX_DELIVERY_BODY_BYTES },
      (_request, body, parsed) => {
        parsed(null, parseJsonOrUndefined(body as string));
      },
    );
    app.addContentTypeParser("*", (_request, _payload, parsed) => {
      parsed(null, undefined);
    });
    // A streamed (chunked) body that grows past the limit; answered here, with this route's limit.
    app.setErrorHandler((error: FastifyError, _request, reply) => {
      if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
        return reply.code(413).send(payloadTooLargeBody(MAX_DELIVERY_BODY_BYTES, "Delivery body"));
      }
      throw error;
    });

    // Subscriptions are declarative (components/todo-events-subscription.yaml); daprd still asks.
    app.get("/dapr/subscribe", { onRequest: requireAppToken }, async () => []);
    app.post(
      DELIVERY_PATH,
      {
        bodyLimit: MAX_DELIVERY_BODY_BYTES,
        onRequest: [requireAppToken, refuseDeclaredBodiesOver(MAX_DELIVERY_BODY_BYTES, "Delivery body")],
      },
      async (request) => {
        const entries = bulkEntriesOf(request.body);
        if (entries === undefined) return { status: delivery.receive(request.body) };
        return { statuses: entries.map((entry) => answerEntry(delivery, entry)) };
      },
    );
    done();
  };
}

/**
 * One entry of a bulk delivery, which daprd sends when the subscription has `bulkSubscribe`
 * enabled, as ours has (components/todo-events-subscription.yaml). An operator may turn it off,
 * so the route answers single CloudEvents too.
 */
interface BulkEntry {
  readonly entryId: string;
  readonly event: unknown;
}

/**
 * The entries when the body is a bulk delivery (`{ type: "com.dapr.event.sent.bulk", entries }`);
 * undefined for a single CloudEvent. An entry without an id cannot be answered and is left out:
 * daprd retries entries it gets no status for.
 */
function bulkEntriesOf(body: unknown): BulkEntry[] | undefined {
  const entries = (body as { entries?: unknown } | null)?.entries;
  if (!Array.isArray(entries)) return undefined;
  return (entries as unknown[]).filter(
    (entry): entry is BulkEntry => typeof (entry as { entryId?: unknown } | null)?.entryId === "string",
  );
}

function answerEntry(delivery: TodoEventDelivery, entry: BulkEntry): { entryId: string; status: DeliveryStatus } {
  // A CloudEvent given as JSON text is read; anything else (a raw payload arrives base64-encoded) is malformed.
  const event = typeof entry.event === "string" ? parseJsonOrUndefined(entry.event) : entry.event;
  return { entryId: entry.entryId, status: delivery.receive(event) };
}
