/**
 * GraphQL over graphql-ws on the same /graphql path, under the same request
 * policy as HTTP. The JWT travels in `connectionParams.authorization`
 * ("Bearer …") and is verified once, when the socket connects; the socket is
 * closed with 4403 when it is missing or bad, and when the token expires.
 * Every operation then passes the policy's limits, admission (rate limit) and
 * error formatting, since Apollo's own pipeline does not run here.
 */
import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import { GraphQLError, getOperationAST, type GraphQLSchema } from "graphql";
import { CloseCode, type SubscribePayload } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer, type WebSocket } from "ws";
import type { AuthenticatedUser } from "../auth/access-token";
import type { WebSocketLimits } from "../config/config";
import { ErrorCode } from "../error-codes";
import type { ContextFactory } from "../graphql/context-factory";
import type { RequestPolicy } from "../graphql/request-policy";
import type { Logger } from "../logging/logger";

export interface GraphQLWebSocketOptions {
  readonly httpServer: Server;
  readonly schema: GraphQLSchema;
  readonly policy: RequestPolicy;
  readonly createContext: ContextFactory;
  readonly limits: WebSocketLimits;
  readonly logger: Logger;
  readonly path?: string;
}

export interface GraphQLWebSocket {
  /** Closes every socket and stops accepting new ones. */
  dispose(): Promise<void>;
}

/** Close code for a user who already has as many sockets open as allowed (graphql-ws's "too many" code). */
export const TOO_MANY_SOCKETS_CLOSE_CODE = 4429;
/** Close code for a client that sends operations but does not read the answers. */
export const NOT_READING_CLOSE_CODE = 1008;
/**
 * Answers waiting in a socket's send buffer before the client is cut off: a client that floods
 * operations without reading would otherwise make every refusal wait in the server's memory.
 */
const MAX_UNREAD_BYTES = 1024 * 1024;
/** The largest message a client may send; documents are small and `details` at most 16 KiB. */
const MAX_MESSAGE_BYTES = 64 * 1024;
/** setTimeout's ceiling; tokens living longer than ~24 days are re-armed. */
const MAX_TIMER_MS = 2_147_483_647;

interface Session {
  readonly user: AuthenticatedUser;
  expiryTimer?: NodeJS.Timeout;
}

export function attachGraphQLWebSocket(options: GraphQLWebSocketOptions): GraphQLWebSocket {
  const { policy, limits, logger } = options;
  const webSocketServer = new WebSocketServer({
    server: options.httpServer,
    path: options.path ?? "/graphql",
    maxPayload: MAX_MESSAGE_BYTES,
  });
  const sessions = new Map<WebSocket, Session>();
  const socketsPerUser = new Map<string, number>();
  const format = (errors: readonly GraphQLError[]) => errors.map((error) => policy.formatError(error.toJSON(), error));

  const openSession = (socket: WebSocket, user: AuthenticatedUser): boolean => {
    const open = socketsPerUser.get(user.id) ?? 0;
    if (open >= limits.maxSocketsPerUser) {
      logger.info({ userId: user.id, open }, "websocket refused: too many sockets for this user");
      // Closed here with our own code; graphql-ws's later 4403 on the closing socket is ignored.
      socket.close(TOO_MANY_SOCKETS_CLOSE_CODE, "Too many connections for this user");
      return false;
    }
    socketsPerUser.set(user.id, open + 1);
    const session: Session = { user };
    sessions.set(socket, session);
    closeAtExpiry(socket, session);
    return true;
  };

  const closeSession = (socket: WebSocket): void => {
    const session = sessions.get(socket);
    if (session === undefined) return;
    sessions.delete(socket);
    clearTimeout(session.expiryTimer);
    const open = (socketsPerUser.get(session.user.id) ?? 1) - 1;
    if (open <= 0) socketsPerUser.delete(session.user.id);
    else socketsPerUser.set(session.user.id, open);
  };

  const admitOperation = async (socket: WebSocket, operationCount: number, id: string, payload: SubscribePayload) => {
    if (socket.bufferedAmount > MAX_UNREAD_BYTES) {
      socket.close(NOT_READING_CLOSE_CODE, "Client is not reading its messages");
      return [clientError("Client is not reading its messages", ErrorCode.TOO_MANY_SUBSCRIPTIONS)];
    }
    const session = sessions.get(socket);
    if (session === undefined || isExpired(session.user)) {
      socket.close(CloseCode.Forbidden, "Token expired");
      return [clientError("Unauthenticated: token expired", ErrorCode.UNAUTHENTICATED)];
    }
    // graphql-ws has already counted this operation.
    if (operationCount > limits.maxSubscriptionsPerSocket) {
      return [
        clientError(
          `A socket may carry at most ${limits.maxSubscriptionsPerSocket} operations at once`,
          ErrorCode.TOO_MANY_SUBSCRIPTIONS,
        ),
      ];
    }
    const parsed = policy.parse(payload.query);
    if (!parsed.ok) return parsed.errors;
    const { document } = parsed;
    const validationErrors = policy.validate(options.schema, document);
    if (validationErrors.length > 0) return validationErrors;
    const operation = getOperationAST(document, payload.operationName);
    if (operation === null || operation === undefined) {
      return [clientError("Unable to identify the operation to run", ErrorCode.BAD_REQUEST)];
    }
    // Charged before the variables are coerced, as Apollo does on HTTP.
    policy.admit(operation.operation, "websocket", { user: session.user });
    const variableErrors = policy.checkVariables(options.schema, operation, payload.variables);
    if (variableErrors.length > 0) return variableErrors;
    return {
      schema: options.schema,
      document,
      operationName: payload.operationName,
      variableValues: payload.variables,
      contextValue: await options.createContext({
        requestId: `ws-${id}-${randomUUID()}`,
        verifiedUser: session.user,
      }),
    };
  };

  const cleanup = useServer(
    {
      schema: options.schema,
      onConnect: async (ctx) => {
        let user: AuthenticatedUser | null;
        try {
          user = await policy.authenticate(authorizationOf(ctx.connectionParams), { log: logger });
        } catch (error) {
          if (error instanceof GraphQLError) return false;
          throw error;
        }
        return user !== null && openSession(ctx.extra.socket, user);
      },
      onClose: (ctx) => closeSession(ctx.extra.socket),
      onSubscribe: async (ctx, id, payload) => {
        try {
          return await admitOperation(ctx.extra.socket, Object.keys(ctx.subscriptions).length, id, payload);
        } catch (error) {
          // A refusal by the policy (rate limit) is a GraphQLError for the client; anything else is
          // masked by the formatter and logged, never sent as a close reason.
          if (!(error instanceof GraphQLError)) logger.error({ err: error }, "websocket operation failed");
          return [
            error instanceof GraphQLError ? error : new GraphQLError("internal", { originalError: error as Error }),
          ];
        }
      },
      onError: (_ctx, _id, _payload, errors) => format(errors),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors === undefined ? undefined : { ...result, errors: format(result.errors) },
    },
    webSocketServer,
  );

  /** The token's expiry already includes the verifier's clock tolerance, as on HTTP. */
  function closeAtExpiry(socket: WebSocket, session: Session): void {
    const expiresAt = session.user.tokenExpiresAt;
    if (expiresAt === undefined) return;
    const remaining = expiresAt - Date.now();
    if (remaining <= 0) {
      socket.close(CloseCode.Forbidden, "Token expired");
      return;
    }
    session.expiryTimer = setTimeout(() => closeAtExpiry(socket, session), Math.min(remaining, MAX_TIMER_MS));
  }

  return {
    async dispose() {
      for (const session of sessions.values()) clearTimeout(session.expiryTimer);
      await cleanup.dispose();
    },
  };
}

function authorizationOf(params: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const value = params?.authorization ?? params?.Authorization;
  return typeof value === "string" ? value : undefined;
}

function isExpired(user: AuthenticatedUser): boolean {
  return user.tokenExpiresAt !== undefined && user.tokenExpiresAt <= Date.now();
}

function clientError(message: string, code: ErrorCode): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}
