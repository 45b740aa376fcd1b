/**
 * The HTTP application on Fastify 5: health, metrics, Dapr delivery, GraphQL at /graphql, and JSON
 * errors without internals. Fastify was chosen by measurement: an Apollo server answering `me` on
 * it costs about a third of the CPU per request it costs on Express 5 (docs/performance.md).
 */
import type { Server } from "node:http";
import type { ApolloServer } from "@apollo/server";
import { fastifyApolloHandler } from "@as-integrations/fastify";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyPluginCallback } from "fastify";
import type { TodoEventDelivery } from "../events/delivery/todo-event-delivery";
import type { GraphQLContext } from "../graphql/context";
import type { ContextFactory } from "../graphql/context-factory";
import type { Logger } from "../logging/logger";
import { ErrorCode, errorBody } from "../error-codes";
import type { Metrics } from "../metrics/metrics";
import { payloadTooLargeBody, refuseDeclaredBodiesOver } from "./body-limit";
import { daprRoutes } from "./dapr-routes";
import { healthRoutes, type HealthDependencies } from "./health";
import { measureRequests, metricsRoute } from "./metrics-routes";
import { requestIdFor, traceparentFor } from "./request-id";

/** Comfortably above the largest legal request (details are capped at 16 KiB). */
export const MAX_REQUEST_BODY_BYTES = 64 * 1024;

export interface HttpAppDependencies {
  /** The server Fastify answers on; the WebSocket shares it, and the caller listens on it. */
  readonly httpServer: Server;
  readonly apollo: ApolloServer<GraphQLContext>;
  readonly createContext: ContextFactory;
  readonly delivery: TodoEventDelivery;
  readonly health: HealthDependencies;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** Resolves once every route is registered; the caller then listens on `httpServer`. */
export async function createHttpApp(deps: HttpAppDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    serverFactory: (handler) => deps.httpServer.on("request", handler),
    // Our logger logs what matters (our own faults, with the request id); a line per request would
    // cost more than the request itself.
    logger: false,
    genReqId: requestIdFor,
    // The shutdown is ours (main.ts, then Apollo's drain plugin), not Fastify's.
    return503OnClosing: false,
  });
  app.addHook("onRequest", (request, reply, done) => {
    void reply.header("x-request-id", request.id);
    done();
  });
  app.addHook("onResponse", measureRequests(deps.metrics));
  app.setNotFoundHandler((_request, reply) => reply.code(404).send(errorBody("Not found", ErrorCode.NOT_FOUND)));
  app.setErrorHandler(answerErrors(deps.logger));

  await app.register(healthRoutes(deps.health));
  await app.register(metricsRoute(deps.metrics));
  await app.register(daprRoutes(deps.delivery));
  await app.register(graphqlRoute(deps));
  await app.ready();
  return app;
}

function graphqlRoute(deps: HttpAppDependencies): FastifyPluginCallback {
  const isAcceptingTraffic = deps.health.isAcceptingTraffic;
  return (app, _options, done) => {
    // JSON is parsed with JSON.parse; any other body is left unread for Apollo to refuse with its
    // own 400 (CSRF prevention for the "simple" types, a missing body for the rest).
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, parsed) => {
      try {
        parsed(null, JSON.parse(body as string));
      } catch {
        parsed(new MalformedJsonBody(), undefined);
      }
    });
    app.addContentTypeParser("*", (_request, _payload, parsed) => {
      parsed(null, undefined);
    });
    app.route({
      method: ["GET", "POST", "OPTIONS"],
      url: "/graphql",
      bodyLimit: MAX_REQUEST_BODY_BYTES,
      onRequest: [
        /**
         * Once shutdown has begun, a request that reaches the server is refused, not executed. The
         * drain closes idle keep-alive sockets, and a request already on its way over such a socket
         * would otherwise commit while its answer can no longer be written: the client sees a reset
         * and cannot know the mutation happened. Refused, it changed nothing, and retrying is safe.
         */
        (_request, reply, next) => {
          if (isAcceptingTraffic()) {
            next();
            return;
          }
          void reply
            .headers({ connection: "close", "retry-after": "1" })
            .code(503)
            .send(errorBody("The server is shutting down; retry the request", ErrorCode.SHUTTING_DOWN));
        },
        refuseDeclaredBodiesOver(MAX_REQUEST_BODY_BYTES, "Request body"),
      ],
      handler: fastifyApolloHandler(deps.apollo, {
        context: async (request) =>
          deps.createContext({
            requestId: request.id,
            authorization: request.headers.authorization,
            traceparent: () => traceparentFor(singleHeader(request.headers.traceparent)),
            clientAddress: request.socket.remoteAddress,
          }),
      }),
    });
    done();
  };
}

class MalformedJsonBody extends Error {
  readonly statusCode = 400;
  constructor() {
    super("Malformed JSON body");
  }
}

function singleHeader(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function answerErrors(logger: Logger): Parameters<FastifyInstance["setErrorHandler"]>[0] {
  return (thrown, request, reply) => {
    const error = thrown as Partial<FastifyError>;
    if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      return reply.code(413).send(payloadTooLargeBody(MAX_REQUEST_BODY_BYTES, "Request body"));
    }
    if (thrown instanceof MalformedJsonBody) {
      return reply.code(400).send(errorBody("Malformed JSON body", ErrorCode.BAD_REQUEST));
    }
    const status = error.statusCode;
    if (typeof status === "number" && status >= 400 && status < 500) {
      return reply.code(status).send(errorBody("Bad request", ErrorCode.BAD_REQUEST));
    }
    logger.error({ err: error, requestId: request.id }, "unhandled HTTP error");
    return reply.code(500).send(errorBody("Internal server error", ErrorCode.INTERNAL_SERVER_ERROR));
  };
}
