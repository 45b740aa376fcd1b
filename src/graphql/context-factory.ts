/**
 * Turns transport facts (headers or WebSocket connection params) into the
 * per-request context. An invalid token fails the whole request with
 * UNAUTHENTICATED and HTTP 401; no token means an anonymous context.
 */
import { GraphQLError } from "graphql";
import { AuthenticationFailure, type AccessTokenVerifier } from "../auth/access-token";
import { bearerTokenFrom } from "../auth/bearer-token";
import type { Logger } from "../logging/logger";
import type { GraphQLContext, Services } from "./context";

export interface RequestFacts {
  readonly requestId: string;
  readonly authorization?: string;
  readonly traceparent?: string;
}

export type ContextFactory = (facts: RequestFacts) => GraphQLContext;

export function createContextFactory(deps: {
  readonly verifyAccessToken: AccessTokenVerifier;
  readonly services: Services;
  readonly logger: Logger;
}): ContextFactory {
  return ({ requestId, authorization, traceparent }) => {
    // The trace id (second field of a traceparent) ties the request's logs to its events.
    const log = deps.logger.child(
      traceparent === undefined ? { requestId } : { requestId, traceId: traceparent.split("-")[1] },
    );
    try {
      const token = bearerTokenFrom(authorization);
      const user = token === undefined ? null : deps.verifyAccessToken(token);
      return {
        user,
        requestId,
        log,
        services: deps.services,
        ...(traceparent === undefined ? {} : { traceparent }),
      };
    } catch (error) {
      if (!(error instanceof AuthenticationFailure)) throw error;
      log.info({ reason: error.reason }, "request refused: invalid credentials");
      throw new GraphQLError(`Unauthenticated: ${error.reason}`, {
        extensions: {
          code: "UNAUTHENTICATED",
          http: { status: 401, headers: new Map([["www-authenticate", "Bearer"]]) },
        },
      });
    }
  };
}
