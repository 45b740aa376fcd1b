/** Routes the Dapr sidecar calls on the app: subscription discovery and event delivery. */
import express, { Router, type ErrorRequestHandler, type RequestHandler } from "express";
import type { TodoEventDelivery } from "../events/todo-event-delivery";

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
    express.json({ type: ["application/cloudevents+json", "application/json"], limit: "256kb" }),
    ((req, res) => {
      res.status(200).json({ status: delivery.receive(req.body) });
    }) satisfies RequestHandler,
    dropUnparseableBody,
  );
  return router;
}
