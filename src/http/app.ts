/** The Express 5 application: health, metrics, Dapr delivery, GraphQL at /graphql, and JSON errors without internals. */
import type { ApolloServer } from "@apollo/server";
import type { TodoEventDelivery } from "../events/delivery/todo-event-delivery";
import { expressMiddleware } from "@as-integrations/express5";
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from "express";
import type { GraphQLContext } from "../graphql/context";
import type { ContextFactory } from "../graphql/context-factory";
import type { Logger } from "../logging/logger";
import { ErrorCode, errorBody } from "../error-codes";
import type { Metrics } from "../metrics/metrics";
import { payloadTooLargeBody, refuseDeclaredBodiesOver } from "./body-limit";
import { daprRoutes } from "./dapr-routes";
import { healthRoutes, type HealthDependencies } from "./health";
import { measureRequests, metricsRoute } from "./metrics-routes";
import { assignRequestId, traceparentFor } from "./request-id";

/** Comfortably above the largest legal request (details are capped at 16 KiB). */
export const MAX_REQUEST_BODY_BYTES = 64 * 1024;

export interface ExpressAppDependencies {
  readonly apollo: ApolloServer<GraphQLContext>;
  readonly createContext: ContextFactory;
  readonly delivery: TodoEventDelivery;
  readonly health: HealthDependencies;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export function createExpressApp(deps: ExpressAppDependencies): Express {
  const app = express();
  app.disable("x-powered-by");
  app.use(assignRequestId);
  app.use(measureRequests(deps.metrics));
  app.use(healthRoutes(deps.health));
  app.use(metricsRoute(deps.metrics));
  app.use(daprRoutes(deps.delivery));
  app.use(
    "/graphql",
    refuseWhileShuttingDown(deps.health.isAcceptingTraffic),
    refuseDeclaredBodiesOver(MAX_REQUEST_BODY_BYTES, "Request body"),
    express.json({ limit: MAX_REQUEST_BODY_BYTES }),
    markBodyAsRead,
    expressMiddleware(deps.apollo, {
      context: async ({ req, res }) =>
        deps.createContext({
          requestId: res.locals.requestId as string,
          authorization: req.get("authorization"),
          traceparent: traceparentFor(req.get("traceparent")),
          clientAddress: req.socket.remoteAddress,
        }),
    }),
  );
  app.use(notFound);
  app.use(jsonErrors(deps.logger));
  return app;
}

/**
 * Apollo's integration refuses requests whose body was never parsed (a
 * non-JSON content type) with a confusing 500; an explicit undefined body
 * lets Apollo answer with its own 400 instead.
 */
const markBodyAsRead: RequestHandler = (req, _res, next) => {
  if (!("body" in req)) (req as { body?: unknown }).body = undefined;
  next();
};

/**
 * Once shutdown has begun, a request that reaches the server is refused, not executed. The drain
 * closes idle keep-alive sockets, and a request already on its way over such a socket would
 * otherwise commit while its answer can no longer be written: the client sees a reset and cannot
 * know the mutation happened. Refused, it changed nothing, and retrying it is safe.
 */
function refuseWhileShuttingDown(isAcceptingTraffic: () => boolean): RequestHandler {
  return (_req, res, next) => {
    if (isAcceptingTraffic()) {
      next();
      return;
    }
    res.set({ connection: "close", "retry-after": "1" });
    res.status(503).json(errorBody("The server is shutting down; retry the request", ErrorCode.SHUTTING_DOWN));
  };
}

const notFound: RequestHandler = (_req, res) => {
  res.status(404).json(errorBody("Not found", ErrorCode.NOT_FOUND));
};

function jsonErrors(logger: Logger): ErrorRequestHandler {
  return (error: { type?: string; status?: number }, _req, res, _next) => {
    if (error.type === "entity.too.large") {
      res.status(413).json(payloadTooLargeBody(MAX_REQUEST_BODY_BYTES, "Request body"));
      return;
    }
    if (error.type === "entity.parse.failed") {
      res.status(400).json(errorBody("Malformed JSON body", ErrorCode.BAD_REQUEST));
      return;
    }
    if (typeof error.status === "number" && error.status >= 400 && error.status < 500) {
      res.status(error.status).json(errorBody("Bad request", ErrorCode.BAD_REQUEST));
      return;
    }
    logger.error({ err: error, requestId: res.locals.requestId }, "unhandled HTTP error");
    res.status(500).json(errorBody("Internal server error", ErrorCode.INTERNAL_SERVER_ERROR));
  };
}
