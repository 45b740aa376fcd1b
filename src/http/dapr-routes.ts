/** Routes the Dapr sidecar calls on the app: subscription discovery and event delivery. */
import express, { Router, type ErrorRequestHandler, type RequestHandler } from "express";
import type { DeliveryStatus, TodoEventDelivery } from "../events/todo-event-delivery";

export const DELIVERY_PATH = "/dapr/todo-events";

export function daprRoutes(delivery: TodoEventDelivery): Router {
  const router = Router();
  const requireAppToken: RequestHandler = (req, res, next) => {
    if (delivery.isAuthorised(req.get("dapr-api-token"))) {
      next();
      return;
    }
    res.status(401).json({ error: "missing or invalid dapr-api-token" });
  };
  // A body that is not JSON can never succeed: answer DROP (dead-letter) instead of an error Dapr would retry.
  const dropUnparseableBody: ErrorRequestHandler = (error: { type?: string }, _req, res, next) => {
    if (error.type !== "entity.parse.failed") {
      next(error);
      return;
    }
    res.status(200).json({ status: delivery.receive(undefined) });
  };

  // Subscriptions are declarative (components/todo-events-subscription.yaml); daprd still asks.
  router.get("/dapr/subscribe", requireAppToken, (_req, res) => {
    res.json([]);
  });
  router.post(
    DELIVERY_PATH,
    requireAppToken,
    // Room for a bulk delivery (bulkSubscribe, up to 100 events); only the authenticated sidecar gets this far.
    express.json({ type: ["application/cloudevents+json", "application/json"], limit: "16mb" }),
    ((req, res) => {
      const entries = bulkEntriesOf(req.body);
      if (entries === undefined) {
        res.status(200).json({ status: delivery.receive(req.body) });
        return;
      }
      res.status(200).json({ statuses: entries.map((entry) => answerEntry(delivery, entry)) });
    }) satisfies RequestHandler,
    dropUnparseableBody,
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
  const event = typeof entry.event === "string" ? parseOrUndefined(entry.event) : entry.event;
  return { entryId: entry.entryId, status: delivery.receive(event) };
}

function parseOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
