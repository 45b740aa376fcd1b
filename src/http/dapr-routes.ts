/** Routes the Dapr sidecar calls on the app: subscription discovery and event delivery. */
import express, { Router, type ErrorRequestHandler, type RequestHandler } from "express";
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

export function daprRoutes(delivery: TodoEventDelivery): Router {
  const router = Router();
  const requireAppToken: RequestHandler = (req, res, next) => {
    if (delivery.isAuthorised(req.get("dapr-api-token"))) {
      next();
      return;
    }
    // The body is never read: closing the connection keeps Node from draining it for a stranger.
    res.set("connection", "close");
    res.status(401).json(errorBody("Missing or invalid dapr-api-token", ErrorCode.UNAUTHENTICATED));
  };
  const answerBodyErrors: ErrorRequestHandler = (error: { type?: string }, _req, res, next) => {
    // A streamed (chunked) body that grows past the limit; answered here, with this route's limit.
    if (error.type === "entity.too.large") {
      res.status(413).json(payloadTooLargeBody(MAX_DELIVERY_BODY_BYTES, "Delivery body"));
      return;
    }
    // A body that is not JSON can never succeed: answer DROP (dead-letter) instead of an error Dapr would retry.
    if (error.type === "entity.parse.failed") {
      res.status(200).json({ status: delivery.receive(undefined) });
      return;
    }
    next(error);
  };

  // Subscriptions are declarative (components/todo-events-subscription.yaml); daprd still asks.
  router.get("/dapr/subscribe", requireAppToken, (_req, res) => {
    res.json([]);
  });
  router.post(
    DELIVERY_PATH,
    requireAppToken,
    refuseDeclaredBodiesOver(MAX_DELIVERY_BODY_BYTES, "Delivery body"),
    express.json({ type: ["application/cloudevents+json", "application/json"], limit: MAX_DELIVERY_BODY_BYTES }),
    ((req, res) => {
      const entries = bulkEntriesOf(req.body);
      if (entries === undefined) {
        res.status(200).json({ status: delivery.receive(req.body) });
        return;
      }
      res.status(200).json({ statuses: entries.map((entry) => answerEntry(delivery, entry)) });
    }) satisfies RequestHandler,
    answerBodyErrors,
  );
  return router;
}

/**
 * One entry of a bulk delivery, which daprd sends when the subscription has `bulkSubscribe`
 * enabled. Ours does not (turning it on measured no gain, see docs/performance.md), but an
 * operator may, so the route answers both shapes.
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
