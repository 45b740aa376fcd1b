/**
 * GraphQL subscriptions over graphql-ws on the same /graphql path. The JWT
 * travels in `connectionParams.authorization` ("Bearer …"); a missing or bad
 * token closes the socket with 4403, and so does the token expiring while the
 * socket is open. Apollo's formatError does not run here, so results are
 * formatted explicitly to keep the same error contract as HTTP.
 */
import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import { specifiedRules, validate, type GraphQLError, type GraphQLSchema } from "graphql";
import { CloseCode } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer, type WebSocket } from "ws";
import { AuthenticationFailure, type AccessTokenVerifier } from "../auth/access-token";
import { bearerTokenFrom } from "../auth/bearer-token";
import type { ContextFactory } from "../graphql/context-factory";
import { formatGraphQLError } from "../graphql/format-error";
import { queryLimitRules } from "../graphql/limits/query-limits";
import type { Logger } from "../logging/logger";

export interface GraphQLWebSocketOptions {
  readonly httpServer: Server;
  readonly schema: GraphQLSchema;
  readonly createContext: ContextFactory;
  readonly verifyAccessToken: AccessTokenVerifier;
  readonly logger: Logger;
  readonly path?: string;
}

export interface GraphQLWebSocket {
  readonly activeConnections: () => number;
  /** Closes every socket and stops accepting new ones. */
  dispose(): Promise<void>;
}

/** setTimeout's ceiling; tokens living longer than ~24 days are re-armed. */
const MAX_TIMER_MS = 2_147_483_647;

export function attachGraphQLWebSocket(options: GraphQLWebSocketOptions): GraphQLWebSocket {
  const webSocketServer = new WebSocketServer({
    server: options.httpServer,
    path: options.path ?? "/graphql",
    maxPayload: 64 * 1024,
  });
  const expiryTimers = new Map<WebSocket, NodeJS.Timeout>();
  const authorizationOf = (params: Readonly<Record<string, unknown>> | undefined): string | undefined => {
    const value = params?.authorization ?? params?.Authorization;
    return typeof value === "string" ? value : undefined;
  };
  const format = (errors: readonly GraphQLError[]) => errors.map((error) => formatGraphQLError(error.toJSON(), error));
  const rules = [...specifiedRules, ...queryLimitRules()];

  const cleanup = useServer(
    {
      schema: options.schema,
      // The same document limits as over HTTP.
      validate: (schema, document) => validate(schema, document, rules),
      onConnect: (ctx) => {
        try {
          const token = bearerTokenFrom(authorizationOf(ctx.connectionParams));
          if (token === undefined) return false;
          const user = options.verifyAccessToken(token);
          if (user.tokenExpiresAt !== undefined) {
            const socket = ctx.extra.socket;
            const closeWhenExpired = (): void => {
              const remaining = user.tokenExpiresAt! - Date.now();
              if (remaining > 0) {
                expiryTimers.set(socket, setTimeout(closeWhenExpired, Math.min(remaining, MAX_TIMER_MS)));
                return;
              }
              socket.close(CloseCode.Forbidden, "Token expired");
            };
            closeWhenExpired();
          }
          return true;
        } catch (error) {
          if (!(error instanceof AuthenticationFailure)) throw error;
          options.logger.info({ reason: error.reason }, "websocket refused: invalid credentials");
          return false;
        }
      },
      onClose: (ctx) => {
        clearTimeout(expiryTimers.get(ctx.extra.socket));
        expiryTimers.delete(ctx.extra.socket);
      },
      context: (ctx) =>
        options.createContext({
          requestId: `ws-${randomUUID()}`,
          authorization: authorizationOf(ctx.connectionParams),
        }),
      onError: (_ctx, _id, _payload, errors) => format(errors),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors === undefined ? undefined : { ...result, errors: format(result.errors) },
    },
    webSocketServer,
  );

  return {
    activeConnections: () => webSocketServer.clients.size,
    async dispose() {
      for (const timer of expiryTimers.values()) clearTimeout(timer);
      expiryTimers.clear();
      await cleanup.dispose();
    },
  };
}
